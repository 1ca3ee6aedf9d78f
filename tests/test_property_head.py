"""The property head: labels from data columns (missing values masked) or computed, trained jointly with the
VAE or alone on a frozen one, and used by score (pred_<name>) and the gradient optimizer."""
import json

import numpy as np
import pandas as pd
import pytest
import torch

from molvae import optimize as opt_mod
from molvae.optimize.gradient import head_prior
from molvae.api import MolVAE
from molvae.model import property_loss
from molvae.train import TrainConfig, TrainError, train


def _labelled_csv(path, smiles):
    rng = np.random.default_rng(0)
    from molvae import chem

    atoms = np.array([chem.to_mol(s).GetNumHeavyAtoms() for s in smiles], dtype=float)
    activity = (atoms - atoms.mean()).astype(object)
    activity[rng.random(len(smiles)) < 0.4] = ""  # missing
    activity[3] = "n/a"                           # not a number: missing as well
    df = pd.DataFrame({"SMILES": smiles, "activity": activity})
    df.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def head_run(tmp_path_factory, train_smiles):
    d = tmp_path_factory.mktemp("head")
    csv = _labelled_csv(d / "lab.csv", train_smiles)
    logs = []
    cfg = TrainConfig(data=str(csv), out=str(d / "run"), epochs=8, batch_size=32, emb_dim=16, dec_hidden=64,
                      enc_hidden=32, latent_dim=8, kl_warmup_steps=50, val_fraction=0.1, lr=3e-3, seed=1,
                      properties=["activity", "logp"], property_weight=10.0)
    train(cfg, log=logs.append)
    return d / "run", logs


def test_property_loss_masks_missing_values():
    pred = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    target = torch.tensor([[0.0, float("nan")], [1.0, 4.0]])
    assert property_loss(pred, target).item() == pytest.approx((1 + 4 + 0) / 3)
    assert property_loss(pred, torch.full((2, 2), float("nan"))).item() == 0.0


def test_head_learns_from_partly_missing_labels(head_run):
    run, logs = head_run
    assert any("activity" in l and "/400" in l for l in logs)  # labels present, counted
    present = [l for l in logs if l.startswith("property labels present")][0]
    n_act = int(present.split("activity ")[1].split("/")[0])
    assert 180 < n_act < 300  # about 60 % of the rows, the rest missing and masked
    rows = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    assert set(rows[-1]["val_property_r2"]) == {"activity", "logp"}
    vae = MolVAE.load(run)
    assert vae.properties == ("activity", "logp")
    # targets are standardized by the labels present in the training rows (missing ones ignored)
    from molvae.train import data

    ts, _ = data.TokenizedSet.load(run / "prepared")
    labels = ts.props
    assert np.isnan(labels[:, 0]).mean() > 0.3 and not np.isnan(labels[:, 1]).any()
    assert abs(vae.model.prop_mean[1].item() - np.nanmean(labels[:, 1])) < 0.2
    assert abs(vae.model.prop_std[0].item() - np.nanstd(labels[:, 0])) < 0.5


def test_predict_and_score_columns(head_run, tmp_path, train_smiles):
    from molvae.score import score_file

    run, _ = head_run
    vae = MolVAE.load(run)
    pred = vae.predict([train_smiles[0], "not a smiles", train_smiles[1]])
    assert list(pred.columns) == ["pred_activity", "pred_logp"]
    assert pred.iloc[1].isna().all() and pred.iloc[[0, 2]].notna().all().all()
    src = tmp_path / "in.csv"
    pd.DataFrame({"SMILES": [train_smiles[0], "C1CC", train_smiles[1]]}).to_csv(src, index=False)
    for out in (tmp_path / "out.csv", tmp_path / "out.parquet"):
        score_file(src, out, model=str(run / "model"), workers=1)
        df = pd.read_parquet(out) if out.suffix == ".parquet" else pd.read_csv(out)
        assert np.isnan(df["pred_logp"][1]) and np.allclose(df["pred_logp"][[0, 2]], pred["pred_logp"][[0, 2]],
                                                            atol=1e-3)


@pytest.mark.slow
def test_gradient_uses_the_head(head_run, train_smiles):
    from molvae.objectives import get_objective

    run, _ = head_run
    vae = MolVAE.load(run)
    prior = head_prior(vae, opt_mod.Oracle(get_objective("logp"), 10))
    z = torch.from_numpy(vae.encode(train_smiles[:3]))
    assert torch.allclose(prior(z), torch.tensor(vae.predict(train_smiles[:3])["pred_logp"].to_numpy()),
                          atol=1e-5)
    assert head_prior(vae, opt_mod.Oracle(get_objective("qed"), 10)) is None  # not a head property
    res = opt_mod.optimize(vae, "logp", 60, method="gradient", seed=0)
    again = opt_mod.optimize(vae, "logp", 60, method="gradient", seed=0)
    assert res.summary["calls"] == 60 and res.log["smiles"].tolist() == again.log["smiles"].tolist()
    int8 = MolVAE.load(run, int8=True)
    assert head_prior(int8, opt_mod.Oracle(get_objective("logp"), 10)) is None  # no gradient in int8


def test_plogp_norm_prior_is_built_from_the_heads_terms():
    """plogp_norm is not a head output, but its three z-scored terms follow from the heads for logp, sa and
    plogp (ring term = plogp - logp + sa); with the fast model's jointly trained head the prior tracks RDKit's
    value on held-out molecules."""
    from molvae import chem
    from molvae.objectives import get_objective, plogp_norm
    from tests.conftest import moses_head

    vae = MolVAE.load("fast")
    prior = head_prior(vae, opt_mod.Oracle(get_objective("plogp_norm"), 10))
    smiles = moses_head(200, "moses_test.csv.gz")
    with torch.no_grad():
        pred = prior(torch.from_numpy(vae.encode(smiles))).numpy()
    y = np.array([plogp_norm(chem.to_mol(s)) for s in smiles])
    assert 1 - np.mean((pred - y) ** 2) / np.var(y) > 0.75  # measured 0.86
    default = MolVAE.load()  # its head has the terms too; a model without them has no prior
    assert head_prior(default, opt_mod.Oracle(get_objective("plogp_norm"), 10)) is not None


@pytest.mark.slow
def test_frozen_vae_trains_the_head_alone(tmp_path, tiny_csv):
    """A head on the bundled model's latent space, the VAE left exactly as it was; it predicts held-out
    molecules' size and logP from mu."""
    from molvae.api import BUNDLED

    out = tmp_path / "frozen"
    train(TrainConfig(data=str(tiny_csv), out=str(out), epochs=6, batch_size=32, init_from=str(BUNDLED),
                      properties=["heavy_atoms", "logp"], freeze_vae=True, val_fraction=0.25, lr=3e-3, seed=1,
                      recon_eval=0), log=lambda m: None)
    base, head = MolVAE.load().model.state_dict(), MolVAE.load(out).model.state_dict()
    vae_keys = [k for k in base if not k.startswith("prop_")]
    assert all(torch.equal(base[k], head[k]) for k in vae_keys)  # the VAE is exactly the one it started from
    assert head["prop_head.4.weight"].shape[0] == 2  # a new head for the two properties asked for
    r2 = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()][-1]["val_property_r2"]
    assert r2["heavy_atoms"] > 0.5 and r2["logp"] > 0.2  # measured 0.84 and 0.52 on 100 held-out molecules


def test_property_settings_are_checked(tmp_path, tiny_csv, tiny_model):
    with pytest.raises(TrainError, match="neither a column"):
        train(TrainConfig(data=str(tiny_csv), out=str(tmp_path / "a"), epochs=1, properties=["potency"]),
              log=lambda m: None)
    with pytest.raises(TrainError, match="needs --init-from"):
        train(TrainConfig(data=str(tiny_csv), out=str(tmp_path / "b"), epochs=1, properties=["qed"],
                          freeze_vae=True), log=lambda m: None)
    with pytest.raises(TrainError, match="more than once"):
        train(TrainConfig(data=str(tiny_csv), out=str(tmp_path / "c"), epochs=1, properties="qed,qed"),
              log=lambda m: None)


def test_cli_properties_flag(tmp_path, tiny_csv, capsys):
    from molvae.cli import main

    rc = main(["train", "--data", str(tiny_csv), "--out", str(tmp_path / "r"), "--epochs", "1", "--batch-size",
               "128", "--dec-hidden", "32", "--enc-hidden", "16", "--latent-dim", "4", "--properties",
               "qed,tpsa", "--workers", "1"])
    assert rc == 0
    assert MolVAE.load(tmp_path / "r").properties == ("qed", "tpsa")
    capsys.readouterr()
    rc = main(["train", "--data", str(tiny_csv), "--out", str(tmp_path / "s"), "--properties", "nope"])
    err = capsys.readouterr().err.strip()
    assert rc != 0 and "nope" in err and len(err.splitlines()) == 1
