"""RDKit in one place: SMILES <-> Mol, canonical form, validity with a reason.

RDKit's own logging is silenced here once, so no other module prints C++ warnings.
"""
from __future__ import annotations

import math

from rdkit import Chem, RDLogger

RDLogger.DisableLog("rdApp.*")

MAX_SMILES_CHARS = 2000  # longer strings are rejected before RDKit sees them


def check_smiles(smiles) -> tuple[Chem.Mol | None, str]:
    """Parse and sanitize one SMILES. Returns (mol, "") or (None, reason).

    Never raises: None, NaN, non-strings, empty and over-long inputs all get a reason.
    """
    if smiles is None or (isinstance(smiles, float) and math.isnan(smiles)):
        return None, "empty"
    if not isinstance(smiles, str):
        return None, "not a string"
    s = smiles.strip()
    if not s or s.lower() == "nan":
        return None, "empty"
    if len(s) > MAX_SMILES_CHARS:
        return None, f"too long ({len(s)} characters)"
    if not s.isprintable():
        return None, "control characters"
    mol = Chem.MolFromSmiles(s, sanitize=False)
    if mol is None:
        return None, "parse error"
    if mol.GetNumAtoms() == 0:
        return None, "empty"
    problems = Chem.DetectChemistryProblems(mol)
    if problems:
        kind = problems[0].GetType()
        return None, {
            "AtomValenceException": "valence",
            "AtomKekulizeException": "kekulization",
            "KekulizeException": "kekulization",
        }.get(kind, kind)
    try:
        Chem.SanitizeMol(mol)
        mol = Chem.RemoveHs(mol)  # explicit [H] atoms would otherwise give a second "canonical" form
    except Exception as exc:  # RDKit raises several unrelated types here
        return None, f"sanitization: {exc}".splitlines()[0][:80]
    return mol, ""


def to_mol(smiles) -> Chem.Mol | None:
    return check_smiles(smiles)[0]


def canonical(smiles) -> str | None:
    """Canonical RDKit SMILES (isomeric), or None when the input is not a valid molecule."""
    mol = to_mol(smiles)
    return None if mol is None else Chem.MolToSmiles(mol)


def mol_to_smiles(mol: Chem.Mol) -> str:
    return Chem.MolToSmiles(mol)


def has_aromatic_ring(mol: Chem.Mol) -> bool:
    ri = mol.GetRingInfo()
    return any(all(mol.GetBondWithIdx(b).GetIsAromatic() for b in ring) for ring in ri.BondRings())
