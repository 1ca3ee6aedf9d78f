"""--standardize: salts and charges to their parents with rdMolStandardize, what was done in a column, the
scores of the standardized molecule; InChIKeys; and why the model cannot read a molecule (vae_error)."""
import numpy as np
import pandas as pd
import pytest
from rdkit import Chem
from rdkit.Chem import Crippen

from molvae import chem
from molvae.cli import build_parser, main
from molvae.train.prepare import prepare
from molvae.score import score_file
from molvae.chem.standardize import standardize, standardize_all

SODIUM = {  # sodium salts of five drugs and their parent acids
    "aspirin": ("CC(=O)Oc1ccccc1C(=O)[O-].[Na+]", "CC(=O)Oc1ccccc1C(=O)O"),
    "ibuprofen": ("CC(C)Cc1ccc(C(C)C(=O)[O-])cc1.[Na+]", "CC(C)Cc1ccc(C(C)C(=O)O)cc1"),
    "diclofenac": ("O=C([O-])Cc1ccccc1Nc1c(Cl)cccc1Cl.[Na+]", "O=C(O)Cc1ccccc1Nc1c(Cl)cccc1Cl"),
    "naproxen": ("COc1ccc2cc([C@H](C)C(=O)[O-])ccc2c1.[Na+]", "COc1ccc2cc([C@H](C)C(=O)O)ccc2c1"),
    "valproate": ("CCCC(CCC)C(=O)[O-].[Na+]", "CCCC(CCC)C(=O)O"),
}
HYDROCHLORIDE = {  # hydrochlorides of five drugs and their parent bases
    "imipramine": ("CN(C)CCCN1c2ccccc2CCc2ccccc21.Cl", "CN(C)CCCN1c2ccccc2CCc2ccccc21"),
    "fluoxetine": ("CNCCC(Oc1ccc(C(F)(F)F)cc1)c1ccccc1.Cl", "CNCCC(Oc1ccc(C(F)(F)F)cc1)c1ccccc1"),
    "propranolol": ("CC(C)NCC(O)COc1cccc2ccccc12.Cl", "CC(C)NCC(O)COc1cccc2ccccc12"),
    "diphenhydramine": ("[Cl-].C[NH+](C)CCOC(c1ccccc1)c1ccccc1", "CN(C)CCOC(c1ccccc1)c1ccccc1"),
    "metoclopramide": ("CCN(CC)CCNC(=O)c1cc(Cl)c(N)cc1OC.Cl", "CCN(CC)CCNC(=O)c1cc(Cl)c(N)cc1OC"),
}
SALTS = {**SODIUM, **HYDROCHLORIDE}


@pytest.mark.parametrize("name", list(SALTS))
def test_salts_of_ten_drugs_standardize_to_their_parents_saying_what_was_done(name):
    salt, parent = SALTS[name]
    smiles, what = standardize(salt, "parent")
    assert smiles == Chem.CanonSmiles(parent)
    assert what.startswith("salt removed (")
    assert ("neutralized" in what) == (name in SODIUM or name == "diphenhydramine")


def test_tautomers_only_when_asked_and_nothing_said_when_nothing_changed():
    assert standardize("Oc1ccccn1", "parent") == ("Oc1ccccn1", "")
    assert standardize("Oc1ccccn1", "parent+tautomer") == ("O=c1cccc[nH]1", "tautomer changed")
    assert standardize("CCO", "parent+tautomer") == ("CCO", "")
    assert standardize("C1CC", "parent") == (None, "")
    table = standardize_all(["CCO.O", "C1CC", None], "parent")
    assert list(table["standardized_smiles"]) == ["CCO", "", ""]
    assert list(table["standardization"]) == ["salt removed (O)", "", ""]
    with pytest.raises(ValueError, match="unknown standardization"):
        standardize("CCO", "largest")


@pytest.fixture(scope="module")
def salts_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("salts") / "salts.csv"
    rows = [(k, v[0]) for k, v in SALTS.items()] + [("broken", "C1CC"), ("long", "C" * 100)]
    pd.DataFrame(rows, columns=["id", "smiles"]).to_csv(path, index=False)
    return path


def _read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_score_standardized_fills_the_model_columns_for_every_salt(tmp_path, salts_csv):
    out = tmp_path / "scored.csv"
    score_file(salts_csv, out, standardize="parent", workers=1, progress=False)
    df = _read(out).set_index("id")
    for name, (salt, parent) in SALTS.items():
        row = df.loc[name]
        assert row["smiles"] == salt  # the input stays as it was
        assert row["standardized_smiles"] == row["canonical_smiles"] == Chem.CanonSmiles(parent)
        assert row["standardization"].startswith("salt removed")
        assert float(row["logp"]) == pytest.approx(Crippen.MolLogP(Chem.MolFromSmiles(parent)))
        assert row["inchikey"] == Chem.MolToInchiKey(Chem.MolFromSmiles(parent))
        assert row["in_vocab"] == "True" and row["vae_error"] == "" and np.isfinite(float(row["nll"]))
    assert df.loc["broken", "error"] == "parse error" and df.loc["broken", "standardized_smiles"] == ""
    assert df.loc["broken", "vae_error"] == "invalid molecule (parse error)"
    assert df.loc["long", "vae_error"].startswith("too long (100 tokens, limit ")


def test_score_without_standardizing_says_why_the_model_cannot_read_a_salt(tmp_path, salts_csv):
    out = tmp_path / "scored.csv"
    assert main(["score", str(salts_csv), "-o", str(out), "--workers", "1", "--quiet", "--model", "moses"]) == 0
    df = _read(out).set_index("id")
    assert "standardized_smiles" not in df.columns
    assert df.loc["aspirin", "in_vocab"] == "False" and df.loc["aspirin", "vae_error"] == "unknown token [O-1]"
    assert df.loc["imipramine", "vae_error"].startswith("several fragments")
    assert df.loc["aspirin", "inchikey"] == Chem.MolToInchiKey(Chem.MolFromSmiles(SALTS["aspirin"][0]))
    assert (df.loc[df["in_vocab"] == "True", "vae_error"] == "").all()


def test_reconstruct_and_encode_use_the_standardized_molecule(tmp_path, salts_csv):
    rec = tmp_path / "rec.csv"
    assert main(["reconstruct", str(salts_csv), "-o", str(rec), "--standardize", "parent", "--quiet"]) == 0
    df = _read(rec).set_index("id")
    assert df.loc["aspirin", "smiles"] == SALTS["aspirin"][0]
    assert df.loc["aspirin", "standardized_smiles"] == Chem.CanonSmiles(SALTS["aspirin"][1])
    assert (df.loc[list(SALTS), "error"] == "").all() and df.loc["broken", "error"] == "parse error"
    enc = tmp_path / "mu.npy"
    assert main(["encode", str(salts_csv), "-o", str(enc), "--standardize", "parent", "--quiet"]) == 0
    assert np.isfinite(np.load(enc)[: len(SALTS)]).all()
    assert main(["encode", str(salts_csv), "-o", str(enc), "--quiet"]) == 0
    assert np.isnan(np.load(enc)[: len(SALTS)]).all(1).all()  # as salts, none of them can be encoded


def test_an_input_column_named_like_ours_is_kept(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame({"smiles": ["CCO.Cl"], "standardized_smiles": ["mine"]}).to_csv(src, index=False)
    score_file(src, out, with_model=False, standardize="parent", workers=1, progress=False)
    df = _read(out)
    assert df["standardized_smiles"][0] == "mine" and df["molvae_standardized_smiles"][0] == "CCO"


def test_a_bad_standardize_value_is_one_line_and_status_2(tmp_path, salts_csv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["score", str(salts_csv), "-o", str(tmp_path / "o.csv"), "--standardize", "largest"])
    assert exc.value.code == 2 and len(capsys.readouterr().err.strip().splitlines()) == 1
    with pytest.raises(ValueError, match="unknown standardization"):
        score_file(salts_csv, tmp_path / "o.csv", standardize="largest", progress=False)


@pytest.mark.parametrize("argv", [["score", "in.csv", "-o", "o.csv"], ["reconstruct", "in.csv", "-o", "o.csv"],
                                  ["encode", "in.csv", "-o", "o.npy"], ["evaluate", "in.csv", "-o", "m.json"],
                                  ["map", "in.csv", "-o", "m.png"], ["fit-prior", "--data", "in.csv"],
                                  ["prepare", "--data", "in.csv", "--out", "run"],
                                  ["train", "--data", "in.csv", "--out", "run"]])
def test_every_command_that_reads_molecules_takes_standardize(argv):
    assert build_parser().parse_args([*argv, "--standardize", "parent+tautomer"]).standardize == "parent+tautomer"


def test_prepare_encodes_the_parents_when_asked(tmp_path, salts_csv):
    _, ts = prepare(salts_csv, tmp_path / "run", standardize="parent", log=lambda m: None)
    parents = [Chem.CanonSmiles(p) for _, p in SALTS.values()]
    assert ts.skipped == {"parse error": 1} and len(ts) == len(SALTS) + 1  # the salts and the long chain
    assert set(chem.smiles_hashes(parents).tolist()) <= set(ts.hashes.tolist())
    _, as_given = prepare(salts_csv, tmp_path / "run2", log=lambda m: None)
    assert not set(as_given.hashes.tolist()) & set(chem.smiles_hashes(parents).tolist())
