"""RDKit in one place: SMILES <-> Mol, canonical form, validity with a reason.

RDKit's C++ log messages (a parse error, a valence warning) are blocked only inside molvae's own calls
(:func:`rdkit_quiet`): importing molvae leaves the host process's RDKit logging as it was.
"""
from __future__ import annotations

import hashlib
import math
from contextlib import contextmanager
from functools import lru_cache

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import rdFingerprintGenerator

MAX_SMILES_CHARS = 2000  # longer strings are rejected before RDKit sees them


@contextmanager
def rdkit_quiet():
    """RDKit's log messages blocked within the block (molvae reports a molecule's problem as a reason
    instead); the caller's log settings are restored after."""
    block = rdBase.BlockLogs()
    try:
        yield
    finally:
        del block


def check_smiles(smiles) -> tuple[Chem.Mol | None, str]:
    """Parse and sanitize one SMILES. Returns (mol, "") or (None, reason).

    Never raises: None, NaN, non-strings, empty and over-long inputs all get a reason. RDKit logs nothing.
    """
    with rdkit_quiet():
        return _check_smiles(smiles)


def _check_smiles(smiles) -> tuple[Chem.Mol | None, str]:
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


def is_rdkit_error(exc: BaseException) -> bool:
    """Whether an exception is RDKit rejecting a molecule: a sanitization failure (valence, kekulization, ...)
    or one of its invariant checks, which reach Python as a plain RuntimeError."""
    return isinstance(exc, Chem.rdchem.MolSanitizeException) or type(exc) is RuntimeError


def as_smiles(items) -> list:
    """SMILES strings or RDKit Mol objects (None stays None) as a list of SMILES; a single one is a list of one.
    Every API that takes molecules accepts either."""
    if isinstance(items, (str, Chem.Mol)):
        items = [items]
    return [Chem.MolToSmiles(m) if isinstance(m, Chem.Mol) else m for m in items]


def to_mol(smiles) -> Chem.Mol | None:
    return check_smiles(smiles)[0]


def canonical(smiles) -> str | None:
    """Canonical RDKit SMILES (isomeric), or None when the input is not a valid molecule."""
    mol = to_mol(smiles)
    return None if mol is None else Chem.MolToSmiles(mol)


def saturate_radicals(smiles: str) -> str:
    """Canonical ``smiles`` with every unpaired electron replaced by a hydrogen (a decoder that writes a stereo
    atom such as [C@H] and then bonds it to two neighbours leaves a [CH] radical); ``smiles`` as given when it
    has no radical or RDKit rejects it."""
    mol = to_mol(smiles)
    if mol is None or not any(a.GetNumRadicalElectrons() for a in mol.GetAtoms()):
        return smiles
    mol = Chem.RWMol(mol)
    for atom in mol.GetAtoms():
        if atom.GetNumRadicalElectrons():
            atom.SetNumExplicitHs(atom.GetNumExplicitHs() + atom.GetNumRadicalElectrons())
            atom.SetNumRadicalElectrons(0)
            atom.SetNoImplicit(True)
    try:
        Chem.SanitizeMol(mol)
    except Exception as exc:  # noqa: BLE001 (RDKit's sanitization errors share no base class)
        if not is_rdkit_error(exc):
            raise
        return smiles
    return Chem.MolToSmiles(mol)


def has_stereo(smiles: str) -> bool:
    """Whether a (canonical) SMILES carries stereochemistry: tetrahedral (@) or double-bond (/ \\) marks."""
    return any(c in smiles for c in "@/\\")


def without_stereo(smiles) -> str | None:
    """Canonical SMILES of the molecule with its stereochemistry removed (isotopes and charges kept)."""
    mol = to_mol(smiles)
    if mol is None:
        return None
    Chem.RemoveStereochemistry(mol)
    return Chem.MolToSmiles(mol)


def mol_to_smiles(mol: Chem.Mol) -> str:
    return Chem.MolToSmiles(mol)


def has_aromatic_ring(mol: Chem.Mol) -> bool:
    ri = mol.GetRingInfo()
    return any(all(mol.GetBondWithIdx(b).GetIsAromatic() for b in ring) for ring in ri.BondRings())


# -- identity: hashes of canonical SMILES (training-set membership without the strings) ---------------------
def smiles_hashes(smiles) -> np.ndarray:
    """64-bit BLAKE2b hashes of (canonical) SMILES: the training set membership test without the strings."""
    return np.array([int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little")
                     for s in smiles], dtype=np.uint64)


def not_in_hashes(hashes: np.ndarray, sorted_hashes: np.ndarray) -> np.ndarray:
    """True where a hash is absent from a sorted array of hashes (a model's training set)."""
    if not len(sorted_hashes):
        return np.ones(len(hashes), dtype=bool)
    pos = np.searchsorted(sorted_hashes, hashes).clip(0, len(sorted_hashes) - 1)
    return sorted_hashes[pos] != hashes


# -- similarity: Morgan fingerprints -------------------------------------------------------------------------
@lru_cache(maxsize=8)
def morgan_generator(radius: int = 2, n_bits: int = 2048):
    """RDKit's Morgan fingerprint generator, built once per (radius, size)."""
    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)


def morgan_fp(mol: Chem.Mol, radius: int = 2, n_bits: int = 2048):
    """Morgan bit vector (radius 2, 2048 bits by default: molvae's similarity fingerprint)."""
    return morgan_generator(radius, n_bits).GetFingerprint(mol)


def tanimoto(a: str | None, b: str | None) -> float:
    """Tanimoto similarity of two SMILES (Morgan radius 2, 2048 bits); NaN when either is not a molecule."""
    from rdkit import DataStructs

    ma, mb = to_mol(a) if a else None, to_mol(b) if b else None
    if ma is None or mb is None:
        return float("nan")
    return float(DataStructs.TanimotoSimilarity(morgan_fp(ma), morgan_fp(mb)))
