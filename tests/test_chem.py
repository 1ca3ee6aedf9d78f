import math

import pytest

from molvae import chem


@pytest.mark.parametrize("smiles,reason", [
    ("", "empty"), ("   ", "empty"), (None, "empty"), (math.nan, "empty"), ("nan", "empty"),
    ("C1CC", "parse error"), ("C(C", "parse error"), ("xyz", "parse error"),
    ("C(C)(C)(C)(C)C", "valence"), ("c1cccc1", "kekulization"), ("C\x00C", "control characters"),
    ("C" * 5000, "too long (5000 characters)"), (42, "not a string"),
])
def test_check_smiles_gives_a_reason(smiles, reason):
    mol, why = chem.check_smiles(smiles)
    assert mol is None and why == reason


@pytest.mark.parametrize("smiles,canonical", [
    ("OCC", "CCO"), ("C1=CC=CC=C1", "c1ccccc1"), ("[Na+].[Cl-]", "[Cl-].[Na+]"), ("[13CH4]", "[13CH4]"),
    ("  CCO  ", "CCO"),
])
def test_canonical(smiles, canonical):
    assert chem.canonical(smiles) == canonical


def test_aromatic_ring():
    assert chem.has_aromatic_ring(chem.to_mol("c1ccccc1CC"))
    assert not chem.has_aromatic_ring(chem.to_mol("C1CCCCC1"))


def test_explicit_hydrogens_give_the_same_canonical_form():
    assert chem.canonical("[H]OC") == chem.canonical("OC") == "CO"
    assert chem.canonical("[H]/C(F)=C/F") == "F/C=C\\F"  # H trans to F: the two F are cis


def test_saturate_radicals_replaces_unpaired_electrons_with_hydrogens():
    from molvae.chem.mol import saturate_radicals

    assert saturate_radicals("CC[CH]CC") == "CCCCC"
    assert saturate_radicals("[CH2]C[N]C") == "CCNC"
    assert saturate_radicals("C[C@H](N)O") == "C[C@H](N)O"  # no radical: as given
    assert saturate_radicals("not a molecule") == "not a molecule"
