"""Molecular properties by name (a registry of mol -> float) and structural alerts (RDKit FilterCatalog).

SA is RDKit's own Contrib SA_Score (Ertl & Schuffenhauer 2009), loaded by file path from RDConfig.RDContribDir,
not a copy. plogp is the penalized logP of Gomez-Bombarelli et al. / JT-VAE: logP - SA - max(largest ring - 6, 0).
"""
from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from typing import Callable

from rdkit import Chem
from rdkit.Chem import QED, Crippen, Descriptors, Lipinski, RDConfig, rdMolDescriptors

from ..errors import MolvaeError


@lru_cache(maxsize=1)
def _sascorer():
    """RDKit's Contrib sascorer.py, loaded from its file path: sys.path is left alone, so no other module
    named sascorer (one in the current directory, say) can stand in for it. ImportError when it is missing."""
    path = os.path.join(RDConfig.RDContribDir, "SA_Score", "sascorer.py")
    if not os.path.isfile(path):
        raise ImportError(f"RDKit's SA scorer is missing: {path} (the SA score needs RDKit's Contrib folder)")
    spec = importlib.util.spec_from_file_location("molvae._rdkit_sascorer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sa(mol: Chem.Mol) -> float:
    return float(_sascorer().calculateScore(mol))


def largest_ring(mol: Chem.Mol) -> int:
    rings = mol.GetRingInfo().AtomRings()
    return max((len(r) for r in rings), default=0)


def plogp(mol: Chem.Mol) -> float:
    return Crippen.MolLogP(mol) - sa(mol) - max(largest_ring(mol) - 6, 0)


def lipinski_violations(mol: Chem.Mol) -> int:
    """Rule of five: MW > 500, logP > 5, H-bond donors > 5, acceptors > 10 (Lipinski et al. 1997)."""
    return int(Descriptors.MolWt(mol) > 500) + int(Crippen.MolLogP(mol) > 5) + \
        int(Lipinski.NumHDonors(mol) > 5) + int(Lipinski.NumHAcceptors(mol) > 10)


PROPERTIES: dict[str, Callable[[Chem.Mol], float]] = {
    "mw": Descriptors.MolWt,
    "logp": Crippen.MolLogP,
    "qed": QED.qed,
    "sa": sa,
    "tpsa": rdMolDescriptors.CalcTPSA,
    "hbd": Lipinski.NumHDonors,
    "hba": Lipinski.NumHAcceptors,
    "rotatable_bonds": rdMolDescriptors.CalcNumRotatableBonds,
    "rings": rdMolDescriptors.CalcNumRings,
    "heavy_atoms": lambda m: m.GetNumHeavyAtoms(),
    "plogp": plogp,
    "lipinski_violations": lipinski_violations,
}


def get(name: str) -> Callable[[Chem.Mol], float]:
    try:
        return PROPERTIES[name]
    except KeyError:
        raise MolvaeError(f"unknown property '{name}' (known: {', '.join(PROPERTIES)})") from None


@lru_cache(maxsize=None)
def _catalog(name: str):
    from rdkit.Chem import FilterCatalog

    params = FilterCatalog.FilterCatalogParams()
    params.AddCatalog(getattr(FilterCatalog.FilterCatalogParams.FilterCatalogs, name))
    return FilterCatalog.FilterCatalog(params)


def alerts(mol: Chem.Mol, catalog: str = "PAINS") -> list[str]:
    """Names of the catalog's structural alerts that match (PAINS, BRENK, NIH, ZINC, CHEMBL, ...)."""
    return sorted({m.GetDescription() for m in _catalog(catalog).GetMatches(mol)})
