import json

import pytest
import torch

from molvae.model import checkpoint
from molvae.api import MolVAE
from molvae.train import TrainConfig, TrainError, beta_at, train


def test_tiny_model_learns(tiny_model):
    rows = [json.loads(l) for l in (tiny_model / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[-1]["val_nll"] < 0.8 * rows[0]["val_nll"]
    assert rows[-1]["active_units"] > 0 and len(rows[-1]["kl_per_dim"]) == 8
    last = rows[-1]  # the count above the floor (free bits 0.1) is read from the same KL per dimension
    assert last["kl_above_floor"] == sum(v > 2 * 0.1 for v in last["kl_per_dim"]) <= 8
    assert "- kl_above_floor:" in (tiny_model / "model" / "MODEL_CARD.md").read_text()
    assert (tiny_model / "config.json").exists() and (tiny_model / "model" / "MODEL_CARD.md").exists()
    assert (tiny_model / "prepared" / "ids.npy").exists()


def test_overfits_a_handful(tmp_path, train_smiles):
    p = tmp_path / "few.smi"
    p.write_text("\n".join(train_smiles[:8]) + "\n")
    cfg = TrainConfig(data=str(p), out=str(tmp_path / "run"), epochs=60, batch_size=8, emb_dim=16,
                      dec_hidden=96, enc_hidden=48, latent_dim=8, val_fraction=0.0, lr=1e-2,
                      kl_warmup_steps=1000, seed=0)
    train(cfg, log=lambda m: None)
    vae = MolVAE.load(tmp_path / "run")
    rec = vae.reconstruct(train_smiles[:8])
    assert rec["recon_exact"].mean() >= 0.75


def test_checkpoint_round_trip(tiny_model):
    vae = MolVAE.load(tiny_model)
    again = MolVAE.load(tiny_model / "checkpoint")
    for (k, a), (_, b) in zip(vae.model.state_dict().items(), again.model.state_dict().items()):
        assert torch.equal(a, b), k
    assert vae.vocab == again.vocab
    assert vae.meta["provenance"]["data_sha256"] and vae.meta["metrics"]["epochs"] == 6


def test_resume_continues_where_it_stopped(tmp_path, tiny_csv):
    kw = dict(data=str(tiny_csv), out=str(tmp_path / "r"), batch_size=64, emb_dim=8, dec_hidden=32,
              enc_hidden=16, latent_dim=4, val_fraction=0.1, seed=2)
    train(TrainConfig(epochs=1, **kw), log=lambda m: None)
    with pytest.raises(TrainError, match="already holds a training run"):
        train(TrainConfig(epochs=2, **kw), log=lambda m: None)
    logs = []
    train(TrainConfig(epochs=2, **kw), resume=True, log=logs.append)
    assert any("resumed from" in l and "epoch 2" in l for l in logs)
    rows = [json.loads(l) for l in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2]
    state = json.loads((tmp_path / "r" / "checkpoint" / "train_state.json").read_text())
    assert state["epoch"] == 2 and state["step"] == 2 * rows[0]["step"]
    # resuming a finished run and training the same number of epochs in one go give the same weights
    train(TrainConfig(epochs=2, **{**kw, "out": str(tmp_path / "straight")}), log=lambda m: None)
    a = MolVAE.load(tmp_path / "r").model.state_dict()
    b = MolVAE.load(tmp_path / "straight").model.state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def test_resume_without_checkpoint_fails(tmp_path, tiny_csv):
    with pytest.raises(TrainError, match="nothing to resume"):
        train(TrainConfig(data=str(tiny_csv), out=str(tmp_path / "none")), resume=True)


def test_beta_schedules():
    lin = TrainConfig(beta=0.5, kl_schedule="linear", kl_warmup_steps=100)
    assert beta_at(0, lin) == 0 and beta_at(50, lin) == 0.25 and beta_at(500, lin) == 0.5
    cyc = TrainConfig(beta=1.0, kl_schedule="cyclical", kl_warmup_steps=100, kl_ramp_fraction=0.5)
    assert beta_at(25, cyc) == 0.5 and beta_at(75, cyc) == 1.0 and beta_at(100, cyc) == 0.0


def test_bad_settings_are_refused(tmp_path, tiny_csv):
    with pytest.raises(TrainError, match="epochs must be positive"):
        train(TrainConfig(data=str(tiny_csv), out=str(tmp_path / "x"), epochs=0))
    with pytest.raises(TrainError, match="training data not found"):
        train(TrainConfig(data=str(tmp_path / "missing.csv"), out=str(tmp_path / "x")))
    bad = tmp_path / "run.toml"
    bad.write_text("[train]\nepochs = 2\nwarp_speed = 9\n")
    with pytest.raises(TrainError, match="unknown setting"):
        TrainConfig.from_toml(bad)


def _copy_model(src, dst):
    import shutil

    shutil.copytree(checkpoint.resolve_model_dir(src), dst)
    return dst


@pytest.mark.parametrize("damage,message", [
    (lambda d: (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:1000]),
     "damaged weights file"),
    (lambda d: (d / "model.safetensors").unlink(), "missing weights file"),
    (lambda d: (d / "model.json").write_text((d / "model.json").read_text()[:200]), "damaged model.json"),
    (lambda d: (d / "model.json").write_text(
        (d / "model.json").read_text().replace('"format_version": 1', '"format_version": 99')), "newer than"),
    (lambda d: (d / "model.json").write_text(
        (d / "model.json").read_text().replace('"<eos>",', '"<eos>", "[Xx]",')), "vocabulary has"),
    (lambda d: (d / "model.json").write_text(json.dumps({**json.loads((d / "model.json").read_text()),
        "config": {**json.loads((d / "model.json").read_text())["config"], "latent_dim": 5}})), "shape"),
])
def test_damaged_models_give_one_line_errors(tmp_path, tiny_model, damage, message):
    d = _copy_model(tiny_model, tmp_path / "m")
    damage(d)
    with pytest.raises(checkpoint.ModelError, match=message) as err:
        MolVAE.load(d)
    assert "\n" not in str(err.value)


def test_interrupted_swap_leaves_a_readable_model(tmp_path, tiny_model):
    d = _copy_model(tiny_model, tmp_path / "checkpoint.old")
    assert checkpoint.existing_dir(tmp_path / "checkpoint") == d
    assert MolVAE.load(tmp_path).latent_dim == 8


def test_bad_model_config_values_are_one_line_errors(tmp_path, tiny_model):
    d = _copy_model(tiny_model, tmp_path / "m")
    meta = json.loads((d / "model.json").read_text())
    for bad in ({"emb_dim": "64"}, {"bidirectional": "no"}, {"dropout": 2.0}, {"latent_dim": -1}):
        (d / "model.json").write_text(json.dumps({**meta, "config": {**meta["config"], **bad}}))
        with pytest.raises(checkpoint.ModelError):
            MolVAE.load(d)


def test_bad_training_settings_from_toml(tmp_path, tiny_csv):
    with pytest.raises(TrainError, match="epochs must be a whole number"):
        train(TrainConfig(data=str(tiny_csv), out=str(tmp_path / "x"), epochs="3"))
    with pytest.raises(TrainError, match="finite"):
        train(TrainConfig(data=str(tiny_csv), out=str(tmp_path / "x"), beta=float("nan")))


def test_api_accepts_a_single_smiles(tiny_model):
    vae = MolVAE.load(tiny_model)
    assert vae.encode("CCO").shape == (1, 8) and len(vae.reconstruct("CCO")) == 1


STEREO_CHARGED = ["C[C@H](N)C(=O)O", "C[C@@H](O)c1ccccc1", "C/C=C/c1ccccc1", "C[NH+](C)Cc1ccccc1",
                  "O=C([O-])c1ccc(Cl)cc1", "C[C@H]1CC[C@@H](C(=O)O)CC1", "Cc1ccc(/N=N/c2ccccc2)cc1",
                  "C[N+](C)(C)CCO"] * 8


def test_grown_vocabulary_keeps_what_the_model_knew(tiny_model):
    """Growing a vocabulary leaves every old token's logits as they were; a new token starts as its parent."""
    from molvae.model import grow_vocab

    vae = MolVAE.load(tiny_model)
    old = vae.model.cfg.vocab_size
    parent = vae.vocab.index["[C]"]
    grown = grow_vocab(vae.model, old + 2, vae.vocab.max_len + 10, {old: parent})
    assert grown.cfg.vocab_size == old + 2 and grown.cfg.max_len == vae.vocab.max_len + 10
    ids = torch.tensor([[parent, parent, 2]])
    z = torch.zeros(1, vae.model.cfg.latent_dim)
    with torch.no_grad():
        a, b = vae.model.decode_logits(z, ids), grown.decode_logits(z, ids)
    assert torch.allclose(a, b[..., :old], atol=1e-6)
    assert torch.allclose(b[..., old], b[..., parent])
    assert torch.allclose(b[..., old + 1], vae.model.out.bias[3:].min().expand(3)[None])
    with pytest.raises(ValueError, match="cannot shrink"):
        grow_vocab(vae.model, old - 1, vae.vocab.max_len, {})


def test_extend_vocab_teaches_a_model_stereo_and_charges(tmp_path, tiny_model):
    data = tmp_path / "stereo.csv"
    data.write_text("SMILES\n" + "\n".join(STEREO_CHARGED) + "\n")
    kw = dict(data=str(data), epochs=1, batch_size=16, init_from=str(tiny_model), val_fraction=0.1, recon_eval=0)
    with pytest.raises(TrainError, match=r"lacks the token \[C@@?H1\], which 16 molecule\(s\).*--extend-vocab"):
        train(TrainConfig(out=str(tmp_path / "a"), **kw), log=lambda m: None)
    logs = []
    train(TrainConfig(out=str(tmp_path / "b"), extend_vocab=True, **kw), log=logs.append)
    assert any("grows from" in l for l in logs)
    base, grown = MolVAE.load(tiny_model), MolVAE.load(tmp_path / "b")
    assert grown.vocab.tokens[:len(base.vocab)] == base.vocab.tokens and grown.vocab.has_stereo
    assert {"[C@@H1]", "[C@H1]", "[/C]", "[NH1+1]", "[O-1]", "[N+1]"} <= set(grown.vocab.tokens)
    inputs = grown.inputs(["C[C@@H](O)c1ccccc1", "C[NH+](C)Cc1ccccc1"])
    assert not any(inputs.reasons) and not any(inputs.stereo_removed)
    # resuming uses the checkpoint's grown vocabulary as it is
    train(TrainConfig(out=str(tmp_path / "b"), extend_vocab=True, **{**kw, "epochs": 2}), resume=True,
          log=lambda m: None)
    assert MolVAE.load(tmp_path / "b").vocab == grown.vocab
    with pytest.raises(TrainError, match="needs --init-from"):
        train(TrainConfig(data=str(data), out=str(tmp_path / "c"), extend_vocab=True), log=lambda m: None)


def test_bf16_autocast_on_cpus_with_bf16_units_and_float32_elsewhere():
    from molvae.model.device import bf16_autocast, cpu_has_bf16

    lin = torch.nn.Linear(8, 8)
    x = torch.randn(4, 8)
    with bf16_autocast(torch.device("cpu"), True):
        wanted = lin(x).dtype
    with bf16_autocast(torch.device("cpu"), False):
        refused = lin(x).dtype
    assert wanted == (torch.bfloat16 if cpu_has_bf16() else torch.float32)
    assert refused == torch.float32


def test_latent_statistics_stay_float32_under_autocast(tiny_model):
    from molvae.model.device import bf16_autocast

    vae = MolVAE.load(tiny_model)
    x, lengths = _ids(vae, ["CCO", "CCN"])
    with bf16_autocast(torch.device("cpu"), True):
        nll, kl, mu = vae.model(x, lengths)
    assert mu.dtype == torch.float32 and kl.dtype == torch.float32
    assert torch.isfinite(nll).all()


def _ids(vae, smiles):
    from molvae.model.tokens import pad_batch

    seqs = [vae.vocab.encode(s)[0] for s in smiles]
    ids, lengths = pad_batch(seqs)
    return torch.as_tensor(ids, dtype=torch.long), torch.as_tensor(lengths, dtype=torch.long)


def test_dropout_is_the_runs_own_setting_also_from_init_from(tmp_path, tiny_csv):
    kw = dict(data=str(tiny_csv), epochs=1, batch_size=64, emb_dim=8, dec_hidden=32, dec_layers=2, enc_hidden=16,
              enc_layers=2, latent_dim=4, val_fraction=0.1, recon_eval=0)
    train(TrainConfig(out=str(tmp_path / "a"), **kw), log=lambda m: None)
    logs = []
    train(TrainConfig(out=str(tmp_path / "b"), init_from=str(tmp_path / "a"), dropout=0.3,
                      **{k: v for k, v in kw.items() if k not in ("emb_dim", "dec_hidden", "dec_layers",
                                                                   "enc_hidden", "enc_layers", "latent_dim")}),
          log=logs.append)
    assert "dropout 0 -> 0.3" in logs
    model = MolVAE.load(tmp_path / "b").model
    assert model.cfg.dropout == 0.3 and model.decoder.dropout == 0.3 and model.enc_dropout.p == 0.3
    x = torch.tensor([[5, 6, 7, 2]])
    z = torch.zeros(1, 4)
    model.train()
    assert not torch.equal(model.decode_logits(z, x), model.decode_logits(z, x))  # dropout acts in training
    model.eval()
    assert torch.equal(model.decode_logits(z, x), model.decode_logits(z, x))


def test_campaign_weights_kept_in_8_bits_unpack_to_the_same_model(tmp_path, tiny_model):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training" / "broad"))
    import packed

    packed.write_packed(tiny_model / "model", tmp_path / "kept")
    assert not (tmp_path / "kept" / "model.safetensors").exists()
    packed.unpack(tmp_path / "kept", tmp_path / "back")
    a, b = MolVAE.load(tiny_model), MolVAE.load(tmp_path / "back")
    for k, v in a.model.state_dict().items():  # within half a step of each row's 8-bit grid
        w = b.model.state_dict()[k]
        tol = v.abs().reshape(v.shape[0], -1).amax(1).max() / 254 + 1e-3 if v.dim() >= 2 else 1e-3 * v.abs().max() + 1e-6
        assert (w - v).abs().max() <= tol, k
    smiles = ["CCOc1ccccc1", "CC(=O)Nc1ccc(O)cc1"]
    assert a.reconstruct(smiles)["reconstruction"].tolist() == b.reconstruct(smiles)["reconstruction"].tolist()


def test_averaged_weights_are_the_parameter_mean_of_the_models(tmp_path, tiny_model, monkeypatch):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training" / "broad"))
    import average

    model, vocab, meta = checkpoint.load_model(tiny_model / "model")
    base = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.5)
    checkpoint.save_model(tmp_path / "shifted", model, vocab, meta["provenance"], meta["metrics"])
    monkeypatch.setattr(sys, "argv", ["average.py", str(tmp_path / "avg"), str(tiny_model / "model"),
                                      str(tmp_path / "shifted")])
    average.main()
    avg = MolVAE.load(tmp_path / "avg")
    assert all(torch.allclose(avg.model.state_dict()[k], v + 0.25, atol=1e-6) for k, v in base.items())
    assert avg.meta["provenance"]["averaged"][-1] == str(tmp_path / "shifted")
    assert avg.sample(3, seed=0)["valid"].all()


def test_a_split_column_fixes_the_validation_rows(tmp_path, train_smiles):
    from molvae.train import data
    from molvae.train.prepare import prepare

    rows = train_smiles[:120]
    split = ["valid" if i % 10 == 3 else "train" for i in range(len(rows))]
    split[13] = " Valid "  # case and spaces are forgiven
    p = tmp_path / "split.csv"
    p.write_text("SMILES,split\n" + "".join(f"{s},{w}\n" for s, w in zip(rows + ["C1CC"], split + ["valid"])))
    vocab, ts = prepare(p, tmp_path / "prep", log=lambda m: None)
    assert ts.skipped == {"parse error": 1} and len(ts) == 120
    val, trn = data.carve(ts, seed=5, val_fraction=0.5, val_max=1000)
    assert val.tolist() == [i for i in range(120) if i % 10 == 3]  # file order, the fraction ignored
    assert sorted(val.tolist() + trn.tolist()) == list(range(120))
    assert data.carve(ts, 5, 0.5, 4)[0].tolist() == [3, 13, 23, 33] and len(data.carve(ts, 5, 0.5, 4)[1]) == 108
    again, _ = data.TokenizedSet.load(tmp_path / "prep" / "prepared")
    assert (again.valid == ts.valid).all()
    logs = []
    train(TrainConfig(data=str(p), out=str(tmp_path / "run"), epochs=1, batch_size=32, emb_dim=8, dec_hidden=32,
                      enc_hidden=16, latent_dim=4, recon_eval=0), log=logs.append)
    assert any(l.startswith("108 training and 12 validation molecules (the split column)") for l in logs)
    bad = tmp_path / "bad.csv"
    bad.write_text("SMILES,split\nCCO,train\nCCN,test\nCCC,valid\n")
    with pytest.raises(TrainError, match="split column of .* holds 'test'"):
        prepare(bad, tmp_path / "prep2", log=lambda m: None)
    bad.write_text("SMILES,split\nCCO,train\nCCN,train\n")
    with pytest.raises(TrainError, match="needs both train and valid rows"):
        prepare(bad, tmp_path / "prep3", log=lambda m: None)


def test_the_neutral_broad_file_keeps_the_validation_rows_molvae_train_carved():
    import sys
    from pathlib import Path

    import numpy as np
    from molvae.train import data

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
    from make_neutral import neutral, validation_rows

    for n in (50, 306322):
        ts = data.TokenizedSet(np.zeros((n, 2), np.int16), np.ones(n, np.int16), np.zeros(n, np.uint64), {})
        assert validation_rows(n).tolist() == data.carve(ts, 0, 0.02, 2000)[0].tolist()
    assert neutral("C[NH3+]") == "CN" and neutral("CC(=O)[O-]") == "CC(=O)O"
    assert neutral("C[N+](=O)[O-]") == "C[N+](=O)[O-]" and neutral("C[N+](C)(C)C") == "C[N+](C)(C)C"
    assert neutral("not a molecule") == ""
