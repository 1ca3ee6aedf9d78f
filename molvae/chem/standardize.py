"""Standardizing molecules before they are used, with RDKit's rdMolStandardize, saying what was done.

Modes: ``off``; ``parent``: clean-up (functional groups normalized, metals disconnected), the largest organic
fragment kept (salts and solvents removed) and charges neutralized where a neutral form exists; and
``parent+tautomer``: the parent, then RDKit's canonical tautomer. A table keeps its input as it is and gains
``standardized_smiles`` and ``standardization`` (what was done: ``salt removed ([Na+]); neutralized``, empty
when nothing changed).
"""
from __future__ import annotations

from functools import lru_cache

import pandas as pd
from rdkit import Chem
from rdkit.Chem.MolStandardize import rdMolStandardize

from . import mol as chem
from ..errors import MolvaeError

MODES = ("off", "parent", "parent+tautomer")
COLUMNS = ("standardized_smiles", "standardization")


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise MolvaeError(f"unknown standardization {mode!r} (use {', '.join(MODES)})")
    return mode


@lru_cache(maxsize=1)
def _tools():
    return (rdMolStandardize.LargestFragmentChooser(preferOrganic=True), rdMolStandardize.Uncharger(),
            rdMolStandardize.TautomerEnumerator())


def _fragments_removed(before: Chem.Mol, kept: Chem.Mol) -> str:
    frags = [Chem.MolToSmiles(f) for f in Chem.GetMolFrags(before, asMols=True)]
    frags.remove(Chem.MolToSmiles(kept))
    text = ".".join(frags)
    return text if len(text) <= 40 else text[:37] + "..."


def _steps(mol: Chem.Mol, tautomer: bool) -> tuple[Chem.Mol, list[str]]:
    """The standardized molecule and the names of the steps that changed it."""
    chooser, uncharger, enumerator = _tools()
    done = []

    def step(new: Chem.Mol, what: str) -> Chem.Mol:
        if Chem.MolToSmiles(new) != Chem.MolToSmiles(mol):
            done.append(what)
        return new

    mol = step(rdMolStandardize.Cleanup(mol), "normalized")
    kept = chooser.choose(mol)
    if kept.GetNumAtoms() < mol.GetNumAtoms():
        done.append(f"salt removed ({_fragments_removed(mol, kept)})")
    mol = kept
    mol = step(uncharger.uncharge(mol), "neutralized")
    if tautomer:
        mol = step(enumerator.Canonicalize(mol), "tautomer changed")
    return mol, done


def standardize(smiles, mode: str = "parent") -> tuple[str | None, str]:
    """(canonical SMILES of the standardized molecule, what was done) for one SMILES or RDKit Mol; (None, "")
    when it is not a molecule (chem.check_smiles names why), (None, "failed: ...") when RDKit cannot
    standardize it."""
    check_mode(mode)
    mol, _ = chem.check_smiles(chem.as_smiles([smiles])[0])
    if mol is None:
        return None, ""
    if mode == "off":
        return chem.mol_to_smiles(mol), ""
    try:
        with chem.rdkit_quiet():  # rdMolStandardize logs every step it takes
            mol, done = _steps(mol, tautomer=mode == "parent+tautomer")
    except Exception as exc:  # noqa: BLE001 - one molecule RDKit cannot standardize stays a row, marked
        if not chem.is_rdkit_error(exc):
            raise
        return None, f"failed: {str(exc).splitlines()[0][:60]}"
    return chem.mol_to_smiles(mol), "; ".join(done)


def standardize_all(smiles, mode: str = "parent") -> pd.DataFrame:
    """standardized_smiles ("" where there is no molecule) and standardization for each input."""
    rows = [standardize(s, mode) for s in chem.as_smiles(smiles)]
    return pd.DataFrame({"standardized_smiles": [s or "" for s, _ in rows],
                         "standardization": [what for _, what in rows]}, dtype=object)


def molecules(smiles, table: pd.DataFrame) -> list:
    """What to use downstream: the standardized molecule, or the input as it was where there is none (so the
    usual check names what is wrong with it)."""
    return [std if std else s for s, std in zip(chem.as_smiles(smiles), table["standardized_smiles"])]


def apply(chunk: pd.DataFrame, column: str, mode: str, name=None) -> tuple[pd.DataFrame, list]:
    """The chunk with standardized_smiles and standardization added (under ``name(column, taken)`` when
    given, so an input column of the same name is kept), and the molecules to use downstream. ``off`` leaves
    the chunk as it is."""
    values = chunk[column].tolist()
    if check_mode(mode) == "off":
        return chunk, values
    table = standardize_all(values, mode)
    out = chunk.copy()
    for col in COLUMNS:
        out[name(col, set(map(str, out.columns))) if name else col] = table[col].values
    return out, molecules(values, table)
