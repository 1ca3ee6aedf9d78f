"""Fixed-length feature vectors of molecules for a learned realism score (molvae.model.critic): folded Morgan
counts (radius 2, 2,048 bits, log1p) followed by 22 structural descriptors (rings by kind and size, bond orders,
charges, stereocentres, size, polarity). The descriptors name what a decoder gets wrong between molecules:
aromatic rings broken into alternating double bonds, odd ring sizes, stray charges."""
from __future__ import annotations

import numpy as np
from rdkit import Chem
from rdkit.Chem import Crippen
from rdkit.Chem import rdMolDescriptors as D

from .mol import morgan_generator, to_mol

MORGAN_BITS = 2048
DESCRIPTORS = ("aromatic rings", "aliphatic rings", "rings", "double bonds", "triple bonds", "charged atoms",
               "stereocentres", "heavy atoms / 10", "logP", "TPSA / 20", "H-bond donors", "H-bond acceptors",
               "rotatable bonds", "fraction sp3", "spiro atoms", "bridgehead atoms", "3-rings", "4-rings", "5-rings",
               "6-rings", "7-rings", "larger rings")
WIDTH = MORGAN_BITS + len(DESCRIPTORS)


def _descriptors(mol: Chem.Mol) -> list:
    bonds = [b.GetBondType() for b in mol.GetBonds()]
    sizes = [len(r) for r in mol.GetRingInfo().AtomRings()]
    return [D.CalcNumAromaticRings(mol), D.CalcNumAliphaticRings(mol), len(sizes),
            bonds.count(Chem.BondType.DOUBLE), bonds.count(Chem.BondType.TRIPLE),
            sum(a.GetFormalCharge() != 0 for a in mol.GetAtoms()),
            len(Chem.FindMolChiralCenters(mol, includeUnassigned=True, useLegacyImplementation=False)),
            mol.GetNumHeavyAtoms() / 10, Crippen.MolLogP(mol), D.CalcTPSA(mol) / 20, D.CalcNumHBD(mol),
            D.CalcNumHBA(mol), D.CalcNumRotatableBonds(mol), D.CalcFractionCSP3(mol), D.CalcNumSpiroAtoms(mol),
            D.CalcNumBridgeheadAtoms(mol), *[sizes.count(k) for k in (3, 4, 5, 6, 7)], sum(k > 7 for k in sizes)]


def features(smiles) -> np.ndarray:
    """(N, WIDTH) float32, one row per SMILES; a row of NaN where the SMILES is not a molecule."""
    gen = morgan_generator(2, MORGAN_BITS)
    out = np.full((len(smiles), WIDTH), np.nan, dtype=np.float32)
    for i, s in enumerate(smiles):
        mol = to_mol(s) if s else None
        if mol is not None:
            out[i, :MORGAN_BITS] = np.log1p(gen.GetCountFingerprintAsNumPy(mol))
            out[i, MORGAN_BITS:] = _descriptors(mol)
    return out
