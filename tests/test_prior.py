"""The learned prior: fitted by EM, saved as safetensors + JSON beside the weights, used by sample by default,
reported by score; a damaged one and a missing one asked for are refused in one line."""
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from molvae import MolVAE
from molvae.model import prior
from molvae.cli import main


def test_em_recovers_a_known_mixture():
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(-3, 0.5, (2000, 2)), rng.normal(4, 1.0, (1000, 2))])
    gm = prior.GaussianMixture.fit(x, 2, seed=0)
    order = np.argsort(gm.means[:, 0].numpy())
    np.testing.assert_allclose(gm.means.numpy()[order], [[-3, -3], [4, 4]], atol=0.1)
    np.testing.assert_allclose(gm.weights.numpy()[order], [2 / 3, 1 / 3], atol=0.02)
    np.testing.assert_allclose(np.exp(gm.log_vars.numpy()[order]), [[0.25, 0.25], [1, 1]], rtol=0.15)
    z = gm.sample(4000, torch.Generator().manual_seed(1)).numpy()
    assert abs((z[:, 0] < 0).mean() - 2 / 3) < 0.03
    same, comp = gm.sample_with_components(4000, torch.Generator().manual_seed(1))
    assert np.array_equal(same.numpy(), z)  # the same draws, with the component each came from
    left = comp.numpy() == int(np.argmin(gm.means[:, 0].numpy()))
    assert (z[left, 0] < 0).mean() > 0.99 and (z[~left, 0] > 0).mean() > 0.99
    lp = gm.log_prob(np.array([[-3.0, -3.0], [20.0, 20.0], [np.nan, 0.0]]))
    assert lp[0] > lp[1] and np.isnan(lp[2])


@pytest.fixture
def model_copy(tiny_model, tmp_path):
    d = tmp_path / "m"
    shutil.copytree(tiny_model / "model", d)
    return d


def test_fit_prior_round_trips_and_sample_uses_it(model_copy, tiny_csv, capsys):
    assert main(["fit-prior", "--model", str(model_copy), "--data", str(tiny_csv), "--components", "4"]) == 0
    assert (model_copy / "prior.safetensors").exists() and "Learned prior" in (model_copy / "MODEL_CARD.md").read_text()
    vae = MolVAE.load(model_copy)
    assert vae.prior.components == 4 and vae.prior.dim == vae.latent_dim
    learned = vae.sample(40, seed=3)
    assert learned["valid"].all() and learned.equals(vae.sample(40, seed=3, prior="learned"))
    assert not learned.equals(vae.sample(40, seed=3, prior="standard"))
    out = model_copy.parent / "s.csv"
    assert main(["sample", "-n", "10", "--model", str(model_copy), "--prior", "standard", "-o", str(out)]) == 0
    scored = model_copy.parent / "scored.csv"
    assert main(["score", str(tiny_csv), "-o", str(scored), "--model", str(model_copy), "--workers", "1",
                 "--quiet"]) == 0
    df = pd.read_csv(scored)
    assert df["prior_logp"].notna().sum() == df["in_vocab"].sum()


def test_a_damaged_or_missing_prior_is_one_line(model_copy, tiny_csv, capsys):
    code = main(["sample", "-n", "3", "--model", str(model_copy), "--prior", "learned"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "has no learned prior" in err[0]
    assert main(["fit-prior", "--model", str(model_copy), "--data", str(tiny_csv), "--components", "3"]) == 0
    (model_copy / "prior.safetensors").write_bytes(b"\x00" * 64)
    capsys.readouterr()
    code = main(["sample", "-n", "3", "--model", str(model_copy)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "damaged prior" in err[0]


def test_fit_prior_can_pick_a_random_subset(model_copy, tiny_csv, capsys):
    assert main(["fit-prior", "--model", str(model_copy), "--data", str(tiny_csv), "--components", "2",
                 "--max-molecules", "50", "--pick", "random", "--seed", "1"]) == 0
    first = json.loads((model_copy / "prior.json").read_text())
    assert first["molecules"] == 50
    a = MolVAE.load(model_copy).prior
    assert main(["fit-prior", "--model", str(model_copy), "--data", str(tiny_csv), "--components", "2",
                 "--max-molecules", "50"]) == 0
    b = MolVAE.load(model_copy).prior
    assert not torch.allclose(a.means, b.means)  # another 50 molecules than the file's first 50


def test_fit_prior_never_writes_into_the_installed_package(tmp_path, tiny_model, tiny_csv, capsys):
    """A bundled model (no --model, or its name) is refused before any work; --out writes a copy instead."""
    import molvae

    package = Path(molvae.__file__).resolve().parent

    def snapshot():
        return sorted((str(p), p.stat().st_mtime_ns) for p in (package / "models").rglob("*"))

    before = snapshot()
    for model in ([], ["--model", "fast"]):
        assert main(["fit-prior", *model, "--data", str(tiny_csv), "--components", "2"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "part of the installed package" in err[0] and "--out DIR" in err[0]
    assert snapshot() == before
    out = tmp_path / "with_prior"
    src = MolVAE.load(tiny_model).path
    assert main(["fit-prior", "--model", str(tiny_model), "--data", str(tiny_csv), "--components", "2",
                 "--out", str(out)]) == 0
    assert MolVAE.load(out).prior.components == 2 and not (src / "prior.safetensors").exists()
    assert main(["fit-prior", "--model", str(tiny_model), "--data", str(tiny_csv), "--out", str(out)]) == 2
    assert "must be a new or empty directory" in capsys.readouterr().err


def test_a_copy_of_fast_carries_the_training_set_it_shares(tmp_path, tiny_csv):
    """`fast` names `moses`'s training_set.npy in its model.json; `fit-prior --out` copies the file itself, so the
    copy still knows its training molecules wherever it is moved."""
    from molvae.model.checkpoint import load_training_set

    out = tmp_path / "fast_copy"
    assert main(["fit-prior", "--model", "fast", "--data", str(tiny_csv), "--components", "2", "--out", str(out)]) == 0
    assert (out / "training_set.npy").exists()
    assert (load_training_set(out) == load_training_set(MolVAE.load("moses").path)).all()


def test_an_exemplar_prior_is_the_widened_posteriors_of_its_molecules():
    rng = np.random.default_rng(0)
    mu, log_var = rng.normal(0, 3, (50, 4)), np.log(rng.uniform(0.01, 0.09, (50, 4)))
    gm = prior.GaussianMixture.exemplars(mu, log_var, scale=2.0)
    assert gm.components == 50
    np.testing.assert_allclose(gm.weights.numpy(), 1 / 50)
    z, comp = gm.sample_with_components(20000, torch.Generator().manual_seed(0))
    c = comp.numpy()
    eps = (z.numpy() - mu[c]) / (2.0 * np.exp(0.5 * log_var[c]))  # each draw around its exemplar, sigma x 2
    assert abs(eps.mean()) < 0.02 and abs(eps.std() - 1) < 0.02
    counts = np.bincount(c, minlength=50)
    assert counts.min() > 300 and counts.max() < 500  # equal weights: 400 draws each
    assert gm.log_prob(mu[:3]).argmax() in range(3) and np.isfinite(gm.log_prob(mu)).all()


def test_fit_prior_exemplars_are_molecules_of_the_file(model_copy, tiny_csv, capsys):
    assert main(["fit-prior", "--model", str(model_copy), "--data", str(tiny_csv), "--kind", "exemplars",
                 "--components", "20", "--scale", "1.5"]) == 0
    record = json.loads((model_copy / "prior.json").read_text())
    assert record["prior"] == "exemplars" and record["scale"] == 1.5 and "exemplars" in record["fitted_on"]
    vae = MolVAE.load(model_copy)
    mu, log_var = vae.encode(pd.read_csv(tiny_csv)["SMILES"].tolist(), return_logvar=True)
    means = vae.prior.means.numpy()
    nearest = np.abs(means[:, None, :] - mu[None]).max(-1).min(1)
    assert vae.prior.components == 20 and (nearest < 1e-2).all()  # float16 copies of encoded mu
    j = np.abs(means[:, None, :] - mu[None]).max(-1).argmin(1)
    np.testing.assert_allclose(vae.prior.log_vars.numpy(), log_var[j] + 2 * np.log(1.5), atol=1e-2)
    assert vae.sample(30, seed=0)["valid"].all()
    plain = vae.sample(20, seed=0)
    assert plain.equals(vae.sample(20, seed=0, rerank=1)) and plain.attrs["drawn"] < 40  # no defaults recorded
    assert main(["fit-prior", "--model", str(model_copy), "--data", str(tiny_csv), "--kind", "exemplars",
                 "--components", "20", "--scale", "1.5", "--rerank", "3", "--strict"]) == 0
    vae = MolVAE.load(model_copy)
    assert vae.prior.sampling == {"rerank": 3, "relaxed": False}
    chosen = vae.sample(20, seed=0)  # the decoding the prior was chosen with, by default
    assert chosen.attrs["relaxed"] is False and chosen.equals(vae.sample(20, seed=0, rerank=3, relaxed=False))
    assert chosen.attrs["drawn"] == 60 and not chosen.equals(vae.sample(20, seed=0, rerank=1))
    assert vae.sample(20, seed=0, prior="standard").attrs["drawn"] == 20  # N(0, I): strict, no re-ranking
    assert main(["fit-prior", "--model", str(model_copy), "--data", str(tiny_csv), "--kind", "exemplars",
                 "--components", "20", "--scale", "1.5", "--rerank", "3", "--strict", "--refine", "2"]) == 0
    vae = MolVAE.load(model_copy)
    assert vae.prior.sampling == {"rerank": 3, "relaxed": False, "refine": 2}
    refined = vae.sample(20, seed=0)
    assert refined.attrs["refine"] == 2 and refined.equals(vae.sample(20, seed=0, rerank=3, relaxed=False, refine=2))
    assert refined["smiles"].tolist() == vae.refine(chosen["smiles"], 2)["smiles"].tolist()
    assert "refine" not in vae.sample(20, seed=0, refine=0).attrs
    record = json.loads((model_copy / "prior.json").read_text())
    for bad in ({"rerank": 0}, {"refine": -1}, {"refine": 1.5}):
        (model_copy / "prior.json").write_text(json.dumps({**record, "sampling": bad}))
        capsys.readouterr()
        code = main(["sample", "-n", "3", "--model", str(model_copy)])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and "damaged prior" in err[0]
    code = main(["fit-prior", "--model", str(model_copy), "--data", str(tiny_csv), "--scale", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].endswith("--scale works with --kind exemplars")
