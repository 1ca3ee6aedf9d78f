import json
import os
from collections import Counter

import numpy as np
import pytest

from molvae import chem
from molvae.metrics import moses as metrics
from molvae.chem import smiles_hashes
from tests.conftest import moses_head


def test_validity_uniqueness_novelty():
    assert metrics.canonical_valid(["CCO", "C1CC", "c1ccccc1", ""]) == ["CCO", "c1ccccc1"]
    assert metrics.unique_at(["CCO", "CCO", "CCN", "CCC"], 3) == pytest.approx(2 / 3)
    gen = ["CCO", "CCO", "CCN", "c1ccccc1"]
    assert metrics.novelty(gen, {"CCO"}) == pytest.approx(2 / 3)
    assert metrics.novelty(gen, np.sort(smiles_hashes(["CCO", "CCN"]))) == pytest.approx(1 / 3)


def test_tanimoto_based_metrics():
    a = np.array([[1, 1, 0, 0], [0, 0, 1, 1]], dtype=np.uint8)
    assert metrics.internal_diversity(a[:1].repeat(3, 0)) == pytest.approx(0.0)
    assert metrics.internal_diversity(a, p=1) == pytest.approx(0.5)       # 1 - mean(1/2, 1/2)
    assert metrics.internal_diversity(a, p=2) == pytest.approx(1 - np.sqrt(0.5))
    b = np.array([[1, 1, 1, 0]], dtype=np.uint8)                         # T(a0, b) = 2/3, T(a1, b) = 1/4
    assert metrics.snn(b, a) == pytest.approx(2 / 3)
    assert metrics.snn(a, b) == pytest.approx((2 / 3 + 1 / 4) / 2)
    fps = metrics.morgan_fps([chem.to_mol("CCO"), chem.to_mol("CCO")])
    assert fps.shape == (2, 1024) and metrics.snn(fps[:1], fps[1:]) == 1.0


def test_cosine_fragments_scaffolds():
    assert metrics.cos_similarity(Counter(a=1), Counter(b=3)) == 0.0
    assert metrics.cos_similarity(Counter(a=2, b=2), Counter(a=1, b=1)) == pytest.approx(1.0)
    assert metrics.cos_similarity(Counter(a=1, b=1), Counter(a=1)) == pytest.approx(1 / np.sqrt(2))
    mols = [chem.to_mol(s) for s in ["c1ccccc1CC", "c1ccc2ccccc2c1CCN", "O=C(OCC)c1ccc(-c2ccncc2)cc1"]]
    scaf = metrics.scaffolds(mols)
    assert scaf == Counter({"c1ccc2ccccc2c1": 1, "c1ccc(-c2ccncc2)cc1": 1})  # benzene alone: < 2 rings
    frag = metrics.fragments([chem.to_mol("CCOC(=O)c1ccccc1")])
    assert sum(frag.values()) >= 2 and all("*" in f for f in frag)


@pytest.mark.parametrize("smiles,ok", [
    ("CCO", True), ("c1ccccc1C(=O)NC", True), ("C[N+](C)(C)C", False), ("[Na+].[Cl-]", False),
    ("C1CCCCCCC1", False), ("CP(C)C", False), ("CCI", False), ("C=CC#N", False),  # MCF1: vinyl nitrile
])
def test_moses_filters(smiles, ok):
    assert metrics.passes_filters(chem.to_mol(smiles)) is ok


def test_frechet_and_wasserstein():
    mu, sigma = np.zeros(3), np.eye(3)
    assert metrics.frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)
    assert metrics.frechet_distance(mu, sigma, mu + 2, sigma) == pytest.approx(12.0)
    assert metrics.frechet_distance(mu, sigma, mu, 4 * sigma) == pytest.approx(3.0)  # 3 * (1 + 4 - 2*2)
    q = np.quantile(np.arange(1000.0), np.linspace(0, 1, 2001))
    assert metrics.wasserstein(np.arange(1000.0) + 1, q) == pytest.approx(1.0, abs=0.01)


def test_evaluate_against_a_small_reference(tmp_path, monkeypatch, train_smiles):
    monkeypatch.setattr(metrics, "CACHE_DIR", tmp_path)
    ref = train_smiles[:200]
    gen = train_smiles[:100] + ["C1CC"] * 10
    res = metrics.evaluate(gen, reference=ref, scaffold_reference=None, train=set(train_smiles[:50]), ks=(100,))
    assert res["valid"] == pytest.approx(100 / 110) and res["unique@100"] == 1.0
    assert res["novelty"] == pytest.approx(0.5)
    assert res["snn"] == pytest.approx(1.0)          # every generated molecule is in the reference
    assert 0.8 < res["intdiv1"] < 0.95 and res["intdiv2"] <= res["intdiv1"]
    assert res["frag"] > 0.9 and res["scaf"] > 0.5 and res["fcd"] < 15
    assert list(tmp_path.glob("ref-*"))              # reference statistics were cached by content
    again = metrics.evaluate(gen, reference=ref, scaffold_reference=None, train=None, ks=())
    assert again["fcd"] == pytest.approx(res["fcd"], rel=1e-4) and again["novelty"] is None


def test_the_shipped_reference_has_every_piece_and_a_missing_one_is_an_error(tmp_path, train_smiles):
    import shutil

    res = metrics.evaluate(train_smiles[:40], train=None, ks=())
    for key in ("fcd", "snn", "frag", "scaf", "fcd_sf", "snn_sf", "frag_sf", "scaf_sf"):
        assert res[key] is not None and np.isfinite(res[key]), key
    assert 0 < res["snn"] < 1
    broken = tmp_path / "moses_test"
    shutil.copytree(metrics.REFERENCE_DIR / "moses_test", broken)
    (broken / "fps.npz").unlink()
    with pytest.raises(ValueError, match="incomplete reference statistics"):
        metrics.Reference.load(broken)


@pytest.mark.slow
def test_a_wheel_carries_the_models_and_the_reference_statistics(tmp_path):
    """What `molvae evaluate` and `molvae sample` need ships in the package, not in the repository's data/."""
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(root)], check=True, capture_output=True)
    names = set(zipfile.ZipFile(next(tmp_path.glob("molvae-*.whl"))).namelist())
    for ref in ("moses_test", "moses_test_scaffolds"):
        for f in ("fcd.npz", "quantiles.npz", "counts.json.gz", "fps.npz"):
            assert f"molvae/reference/{ref}/{f}" in names
    for model in ("moses", "fast"):
        for f in ("model.json", "model.safetensors"):
            assert f"molvae/models/{model}/{f}" in names
    assert "molvae/models/moses/training_set.npy" in names  # fast shares it (model.json)
    assert "molvae/reference/moses_mcf.csv" in names and "molvae/cli/__init__.py" in names
    # installed from the wheel alone and run outside the repository, evaluate gives every metric
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
                    str(next(tmp_path.glob("molvae-*.whl")))], check=True, capture_output=True)
    gen = tmp_path / "gen.csv"
    gen.write_text("SMILES\n" + "\n".join(moses_head(200)) + "\n")  # train molecules: not in the reference
    env = {**os.environ, "PYTHONPATH": str(site), "MOLVAE_CACHE": str(tmp_path / "cache")}
    where = subprocess.run([sys.executable, "-c", "import molvae; print(molvae.__file__)"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(site))
    run = subprocess.run([sys.executable, "-m", "molvae", "evaluate", str(gen), "-o", str(tmp_path / "m.json"),
                          "--workers", "1", "--device", "cpu", "--batch-size", "64", "--quiet"],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    res = json.loads((tmp_path / "m.json").read_text())
    for k in ("snn", "frag", "scaf", "fcd", "novelty", "snn_sf", "fcd_sf"):
        assert isinstance(res[k], float), k
    assert 0.5 < res["snn"] < 1 and res["fcd"] < 10
    shared = subprocess.run([sys.executable, "-c", "from molvae.model.checkpoint import load_training_set as l,"
                             " BUNDLED_MODELS as b; print(len(l(b / 'fast')), (l(b / 'fast') == l(b / 'moses')).all())"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert int(shared[0]) > 1_000_000 and shared[1] == "True"


def test_metrics_accept_rdkit_mol_objects():
    from rdkit import Chem

    assert metrics.canonical_valid([Chem.MolFromSmiles("OCC"), "C1CC", "c1ccccc1"]) == ["CCO", "c1ccccc1"]


def test_evaluate_gives_the_same_numbers_in_worker_processes(train_smiles):
    one = metrics.evaluate(train_smiles[:60] * 70, reference=None, scaffold_reference=None, ks=())
    two = metrics.evaluate(train_smiles[:60] * 70, reference=None, scaffold_reference=None, ks=(), workers=2)
    one.pop("_values", None), two.pop("_values", None)
    assert one == two and 0 < one["filters"] <= 1
