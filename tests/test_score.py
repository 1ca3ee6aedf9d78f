import numpy as np
import pandas as pd
import pytest
from rdkit import Chem
from rdkit.Chem import QED, Crippen, Descriptors

from molvae.chem import properties
from molvae.cli import main
from molvae.score import score_file

HOSTILE = [
    "", "   ", "nan", "NaN", "ünïcødé", "C\x07C", "\t", "x" * 5000, "C(C)(C)(C)(C)C", "C1CC", "C(C", "CC)",
    "[Na+].[Cl-]", "C[N+](C)(C)C", "[13CH3]O", "[Og]", "*C", "C" * 400, "c1cccc1", "[C@@H](F)(Cl)Br",
    "CCO", "c1ccccc1O", "O=C(C=Cc1ccc(O)cc1)c1ccccc1", '"quoted,comma"', "C;C", "#", "[", "]]", "0",
]


@pytest.fixture(scope="module")
def hostile_csv(tmp_path_factory):
    p = tmp_path_factory.mktemp("score") / "hostile.csv"
    pd.DataFrame({"id": range(len(HOSTILE)), "smiles": HOSTILE, "note": ["n"] * len(HOSTILE)}).to_csv(p, index=False)
    return p


def test_every_row_kept_in_order_with_reasons(tmp_path, hostile_csv, tiny_model):
    out = tmp_path / "o.csv"
    s = score_file(hostile_csv, out, model=str(tiny_model), workers=2, chunk_size=4, progress=False,
                   latent_path=tmp_path / "mu.npy")
    df = pd.read_csv(out, keep_default_na=False, dtype=str)
    assert list(df["id"]) == [str(i) for i in range(len(HOSTILE))] and (df["note"] == "n").all()
    assert s.rows == len(HOSTILE)
    valid = df["valid"] == "True"
    assert (df.loc[~valid, "error"] != "").all() and (df.loc[valid, "error"] == "").all()
    reason = dict(zip(HOSTILE, df["error"]))
    assert reason[""] == "empty" and reason["nan"] == "empty" and reason["C(C)(C)(C)(C)C"] == "valence"
    assert reason["c1cccc1"] == "kekulization" and reason["x" * 5000].startswith("too long")
    assert reason["C1CC"] == "parse error" and reason["C\x07C"] == "control characters"
    for ok in ("[Na+].[Cl-]", "C[N+](C)(C)C", "[13CH3]O", "*C", "C" * 400, "CCO"):
        assert reason[ok] == "", ok
    mu = np.load(tmp_path / "mu.npy")
    assert mu.shape == (len(HOSTILE), 8)
    in_vocab = (df["in_vocab"] == "True").to_numpy()
    assert np.isfinite(mu[in_vocab]).all() and np.isnan(mu[~in_vocab]).all()
    assert (df.loc[in_vocab, "nll"].astype(float) > 0).all() and (df.loc[~in_vocab, "nll"] == "").all()


def test_properties_agree_with_rdkit(tmp_path, train_smiles):
    src = tmp_path / "m.smi"
    src.write_text("\n".join(train_smiles[:50]) + "\n")
    out = tmp_path / "o.parquet"
    score_file(src, out, with_model=False, workers=1, progress=False)
    df = pd.read_parquet(out)
    for smi, row in zip(train_smiles[:50], df.itertuples()):
        m = Chem.MolFromSmiles(smi)
        assert row.mw == pytest.approx(Descriptors.MolWt(m))
        assert row.logp == pytest.approx(Crippen.MolLogP(m))
        assert row.qed == pytest.approx(QED.qed(m))
        ring = max((len(r) for r in m.GetRingInfo().AtomRings()), default=0)
        assert row.plogp == pytest.approx(Crippen.MolLogP(m) - row.sa - max(ring - 6, 0))
        assert 1 <= row.sa <= 10


def test_pains_and_alerts():
    m = Chem.MolFromSmiles("O=C(C=Cc1ccc(O)cc1)c1ccccc1")
    assert properties.alerts(m, "BRENK") == ["Michael_acceptor_1"]
    rhodanine = Chem.MolFromSmiles("O=C1NC(=S)SC1=Cc1ccccc1")
    assert any("ene_rhod" in a for a in properties.alerts(rhodanine, "PAINS"))


@pytest.mark.slow
def test_parallel_and_dask_equal_serial(tmp_path, train_smiles):
    src = tmp_path / "in.csv"
    pd.DataFrame({"smiles": train_smiles[:120] + HOSTILE}).to_csv(src, index=False)
    serial, par, dask = tmp_path / "s.csv", tmp_path / "p.csv", tmp_path / "d.csv"
    score_file(src, serial, with_model=False, workers=1, chunk_size=1000, progress=False)
    score_file(src, par, with_model=False, workers=2, chunk_size=17, progress=False)
    score_file(src, dask, with_model=False, workers=2, chunk_size=23, progress=False, engine="dask")
    a = pd.read_csv(serial, keep_default_na=False, dtype=str)
    assert len(a) == 120 + len(HOSTILE)
    assert a.equals(pd.read_csv(par, keep_default_na=False, dtype=str))
    assert a.equals(pd.read_csv(dask, keep_default_na=False, dtype=str))


def test_novelty_uses_the_models_training_set(tmp_path, tiny_model, train_smiles):
    src = tmp_path / "n.csv"
    pd.DataFrame({"smiles": [train_smiles[0], "CCCCCCCCCCCCCCCCCCO"]}).to_csv(src, index=False)
    out = tmp_path / "n_out.csv"
    score_file(src, out, model=str(tiny_model), workers=1, progress=False)
    df = pd.read_csv(out, keep_default_na=False, dtype=str)
    assert list(df["novel"]) == ["False", "True"]


@pytest.mark.parametrize("args,message", [
    (["score", "/nonexistent.csv", "-o", "OUT", "--no-model"], "file not found"),
    (["score", "NOCOL", "-o", "OUT", "--no-model"], "no SMILES column"),
    (["score", "GOOD", "-o", "/nonexistent/o.csv", "--no-model"], "output directory does not exist"),
    (["score", "GOOD", "-o", "OUT", "--no-model", "--latent", "x.npy"], "--latent needs a model"),
    (["score", "GOOD", "-o", "OUT", "--no-model", "--device", "cpu", "--int8"], "--device, --int8 do not apply"),
    (["score", "GOOD", "-o", "OUT", "--no-model", "--batch-size", "64"], "--batch-size does not apply"),
    (["score", "GOOD", "-o", "OUT", "--workers", "0"], "--workers must be positive"),
])
def test_score_cli_errors(tmp_path, capsys, args, message):
    (tmp_path / "nocol.csv").write_text("a,b\n1,2\n")
    (tmp_path / "good.csv").write_text("smiles\nCCO\n")
    args = [a.replace("NOCOL", str(tmp_path / "nocol.csv")).replace("GOOD", str(tmp_path / "good.csv"))
            .replace("OUT", str(tmp_path / "o.csv")) for a in args]
    with pytest.raises(SystemExit) if "--workers" in args else _nothing():
        assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "o.csv").exists()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_parquet_types_hold_across_chunks_and_names_do_not_clash(tmp_path):
    src = tmp_path / "in.parquet"
    pd.DataFrame({"smiles": ["C1CC", "", "CCO", "c1ccccc1"], "flag": [None, None, True, False],
                  "valid": ["yes", "no", "yes", "no"], "molvae_valid": ["a", "b", "c", "d"]}).to_parquet(src)
    out = tmp_path / "out.parquet"
    s = score_file(src, out, with_model=False, workers=1, chunk_size=2, progress=False)
    df = pd.read_parquet(out)
    assert list(df["valid"]) == ["yes", "no", "yes", "no"] and list(df["molvae_valid"]) == ["a", "b", "c", "d"]
    assert list(df["molvae2_valid"]) == [False, False, True, True] and list(df["flag"].iloc[2:]) == [True, False]
    assert s.valid == 2 and s.invalid == {"parse error": 1, "empty": 1}


def test_score_smiles_accepts_rdkit_mol_objects():
    from rdkit import Chem

    from molvae.score import score_smiles

    df = score_smiles([Chem.MolFromSmiles("OCC"), "CCO", None])
    assert list(df["canonical_smiles"]) == ["CCO", "CCO", ""] and list(df["valid"]) == [True, True, False]
    assert df["qed"][0] == df["qed"][1]


def test_a_model_can_share_a_siblings_training_set_and_add_its_own(tmp_path, tiny_model, train_smiles):
    import json
    import shutil

    from molvae.model.checkpoint import ModelError, load_training_set, resolve_model_dir

    shutil.copytree(resolve_model_dir(tiny_model), tmp_path / "a")
    shutil.copytree(resolve_model_dir(tiny_model), tmp_path / "b")
    (tmp_path / "b" / "training_set.npy").unlink()
    meta = json.loads((tmp_path / "b" / "model.json").read_text())
    assert load_training_set(tmp_path / "b") is None
    (tmp_path / "b" / "model.json").write_text(json.dumps({**meta, "training_set_shared_with": "a"}))
    assert (load_training_set(tmp_path / "b") == load_training_set(tmp_path / "a")).all()
    src = tmp_path / "n.csv"
    pd.DataFrame({"smiles": [train_smiles[0], "CCCCCCCCCCCCCCCCCCO"]}).to_csv(src, index=False)
    score_file(src, tmp_path / "n_out.csv", model=str(tmp_path / "b"), workers=1, progress=False)
    assert list(pd.read_csv(tmp_path / "n_out.csv", dtype=str)["novel"]) == ["False", "True"]
    from molvae.model.checkpoint import save_training_set

    shutil.copytree(tmp_path / "b", tmp_path / "c")  # a new path: score_file keeps the models it loaded
    save_training_set(tmp_path / "c", ["CCCCCCCCCCCCCCCCCCO"])  # its own molecules beside the sibling's: the union
    assert len(load_training_set(tmp_path / "c")) == len(load_training_set(tmp_path / "a")) + 1
    score_file(src, tmp_path / "c_out.csv", model=str(tmp_path / "c"), workers=1, progress=False)
    assert list(pd.read_csv(tmp_path / "c_out.csv", dtype=str)["novel"]) == ["False", "False"]
    (tmp_path / "b" / "model.json").write_text(json.dumps({**meta, "training_set_shared_with": "../a"}))
    with pytest.raises(ModelError, match="sibling model"):
        load_training_set(tmp_path / "b")
