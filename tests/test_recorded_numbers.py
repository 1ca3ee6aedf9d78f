"""Numbers that the metric, top-AUC, trust-region and Frechet code gave on fixed inputs, recorded in
tests/data/recorded_numbers.json before that code was rewritten from the published definitions: the rewritten
code must give the same numbers (exactly for counts and digests, to 1e-9 for floating-point results).

Record again (only when a change of numbers is intended): PYTHONPATH=. python -m tests.test_recorded_numbers
"""
import gzip
import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import DATA

RECORD = Path(__file__).parent / "data" / "recorded_numbers.json"
# The one number held to a looser tolerance: the Frechet distance from a rank-deficient covariance (300
# molecules, 512 activations). The recorded value came from scipy's sqrtm of the non-symmetric product, the
# code now takes the eigenvalues of a symmetric form; on such a matrix either is accurate to about 1e-7
# (they differ by 3e-8 relative), while on full-rank covariances they agree to 1e-12.
LOOSER = {"frechet.chemnet_300_vs_moses_test": 1e-6}


def _moses_test(start: int, n: int, name: str = "moses_test.csv.gz") -> list[str]:
    with gzip.open(DATA / name, "rt") as fh:
        rows = [line.strip() for line in fh][1:]
    return rows[start : start + n]


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def _counter_summary(c) -> dict:
    return {"total": sum(c.values()), "distinct": len(c), "digest": _digest(sorted(c.items()))}


# -- what is measured --------------------------------------------------------------------------------------
def measure_metrics() -> dict:
    from molvae import chem, metrics

    gen = [chem.to_mol(s) for s in _moses_test(0, 300)]
    ref = [chem.to_mol(s) for s in _moses_test(300, 5000)]  # more than one 4,096-row block
    frag_a, frag_b = metrics.fragments(gen[:150]), metrics.fragments(gen[150:])
    scaf_a, scaf_b = metrics.scaffolds(gen[:150]), metrics.scaffolds(gen[150:])
    zinc = [chem.to_mol(s) for s in _moses_test(0, 700, "zinc250k_test.csv.gz")]  # many fail the filters
    passes = [metrics.passes_filters(m) for m in gen + zinc]
    gen_fps, ref_fps = metrics.morgan_fps(gen), metrics.morgan_fps(ref)
    nearest = metrics.nearest_similarity(ref_fps, gen_fps)
    return {
        "fragments": _counter_summary(frag_a + frag_b), "scaffolds": _counter_summary(scaf_a + scaf_b),
        "frag_cos": metrics.cos_similarity(frag_a, frag_b), "scaf_cos": metrics.cos_similarity(scaf_a, scaf_b),
        "filters_passed": sum(passes), "filters_digest": _digest(passes),
        "snn": metrics.snn(gen_fps, ref_fps), "nearest_first": nearest[:20].tolist(),
        "intdiv1": metrics.internal_diversity(gen_fps, 1), "intdiv2": metrics.internal_diversity(gen_fps, 2),
        "power_mean_2": metrics.power_mean_similarity(ref_fps, gen_fps, 2)[:20].tolist(),
    }


def measure_frechet() -> dict:
    from molvae import metrics

    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((40, 12)), rng.standard_normal((60, 12)) * 1.5 + 0.3
    out = {"random_12": metrics.frechet_distance(a.mean(0), np.cov(a.T), b.mean(0), np.cov(b.T))}
    z = np.load(metrics.REFERENCE_DIR / "moses_test" / "fcd.npz", allow_pickle=False)
    zs = np.load(metrics.REFERENCE_DIR / "moses_test_scaffolds" / "fcd.npz", allow_pickle=False)
    out["moses_test_vs_scaffolds"] = metrics.frechet_distance(*(x.astype(np.float64) for x in (
        z["mu"], z["sigma"], zs["mu"], zs["sigma"])))
    mu, sigma = metrics.fcd_stats(_moses_test(0, 300))  # 300 molecules, 512 activations: a singular covariance
    out["chemnet_300_vs_moses_test"] = metrics.frechet_distance(mu, sigma, z["mu"].astype(np.float64),
                                                                z["sigma"].astype(np.float64))
    return out


def measure_top_auc() -> dict:
    from molvae.optimize import top_auc

    rng = np.random.default_rng(3)
    scores = rng.gamma(2.0, 0.2, 1000)
    feasible = rng.random(1000) > 0.3
    return {
        "full": top_auc(scores, 1000), "short": top_auc(scores[:437], 1000),
        "short_unfinished": top_auc(scores[:437], 1000, finish=False), "over_budget": top_auc(scores, 650),
        "top1_freq50": top_auc(scores, 1000, top_n=1, freq_log=50), "minimize": top_auc(scores, 1000, direction="minimize"),
        "feasible": top_auc(scores, 1000, feasible=feasible), "few": top_auc(scores[:7], 100),
        "empty": top_auc([], 100),
    }


def measure_trust_region() -> dict:
    from molvae.optimize.bo import TrustRegion

    rng = np.random.default_rng(11)
    region = TrustRegion(0.8, 0.5**7, 1.6, success_tol=3, fail_tol=4)
    region.best = 0.0
    lengths, bests = [], []
    for step in range(120):
        trend = 0.3 * step if step % 20 < 8 else 0.0  # runs of improvements, then of failures
        batch = rng.standard_normal(int(rng.integers(0, 6))) * 0.05 + trend
        region.update(batch)
        if region.length < region.length_min:
            region.restart(0.8)
        lengths.append(region.length)
        bests.append(region.best)
    return {"lengths": lengths, "bests": [b if math.isfinite(b) else None for b in bests]}


def measure_candidates() -> dict:
    import torch
    from types import SimpleNamespace

    from molvae.optimize.bo import _candidates

    dim = 30
    ls = torch.linspace(0.2, 3.0, dim, dtype=torch.float64)
    model = SimpleNamespace(covar_module=SimpleNamespace(lengthscale=ls))
    centre = np.linspace(0.1, 0.9, dim)
    torch.manual_seed(5)
    sobol = torch.quasirandom.SobolEngine(dim, scramble=True, seed=5)
    cand = _candidates(model, centre, 0.4, sobol, 64).numpy()
    moved = cand != centre[None]
    return {"sum": float(cand.sum()), "sum_sq": float((cand**2).sum()), "moved": _digest(moved.tolist()),
            "first_rows": cand[:3].tolist()}


class _Pool:
    """A stand-in decoder: a latent point picks one of 3,000 MOSES test molecules by a fixed projection."""

    latent_dim = 8

    def __init__(self):
        self.smiles = _moses_test(0, 3000)
        self.w = np.random.default_rng(2).standard_normal(self.latent_dim)

    def decode(self, z, greedy=True):
        pos = (np.asarray(z, dtype=np.float64) @ self.w / 8 + 0.5).clip(0, 0.9999)
        return [self.smiles[int(p * len(self.smiles))] for p in pos]


class _Qed:
    name, direction = "qed", "maximize"

    def __call__(self, smiles):
        from rdkit.Chem import QED

        from molvae import chem

        return np.array([QED.qed(chem.to_mol(s)) for s in smiles])


def measure_bo_run() -> dict:
    from molvae.optimize.bo import bo
    from molvae.optimize.oracle import Archive, Oracle, Search

    vae = _Pool()
    search = Search(vae=vae, oracle=Oracle(_Qed(), 80), archive=Archive(vae.latent_dim),
                    rng=np.random.default_rng(4), q=8, seed=4)
    stop = bo(search, fit_iters=10, n_candidates=300)
    rows = search.oracle.rows
    return {"stop": stop, "calls": len(rows), "smiles": _digest([r["smiles"] for r in rows]),
            "scores": [float(r["score"]) for r in rows]}


MEASURES = {"metrics": measure_metrics, "frechet": measure_frechet, "top_auc": measure_top_auc,
            "trust_region": measure_trust_region, "candidates": measure_candidates, "bo_run": measure_bo_run}


# -- the tests --------------------------------------------------------------------------------------------
def _same(got, want, path=""):
    if isinstance(want, dict):
        assert set(got) == set(want), path
        for k in want:
            _same(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, list):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            _same(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=LOOSER.get(path, 1e-9), abs=1e-12, nan_ok=True), path
    else:
        assert got == want, path


@pytest.mark.parametrize("name", list(MEASURES))
def test_the_code_gives_the_recorded_numbers(name):
    recorded = json.loads(RECORD.read_text())[name]
    _same(json.loads(json.dumps(MEASURES[name]())), recorded, name)


def test_the_frechet_distance_is_symmetric_and_zero_for_the_same_gaussian():
    from molvae import metrics

    z = np.load(metrics.REFERENCE_DIR / "moses_test" / "fcd.npz", allow_pickle=False)
    zs = np.load(metrics.REFERENCE_DIR / "moses_test_scaffolds" / "fcd.npz", allow_pickle=False)
    a, b = (z["mu"].astype(np.float64), z["sigma"].astype(np.float64)), (zs["mu"].astype(np.float64), zs["sigma"].astype(np.float64))
    assert metrics.frechet_distance(*a, *b) == pytest.approx(metrics.frechet_distance(*b, *a), rel=1e-10)
    assert abs(metrics.frechet_distance(*a, *a)) < 1e-8


def test_the_comparison_catches_a_changed_number():
    recorded = json.loads(RECORD.read_text())["top_auc"]
    with pytest.raises(AssertionError):
        _same({**recorded, "full": recorded["full"] * (1 + 1e-7)}, recorded)


if __name__ == "__main__":
    names = sys.argv[1:] or list(MEASURES)
    old = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    RECORD.parent.mkdir(exist_ok=True)
    RECORD.write_text(json.dumps({**old, **{n: MEASURES[n]() for n in names}}, indent=1) + "\n")
