"""Faults: a killed training run resumes from its last complete checkpoint; non-finite losses are skipped and
reported; bad output locations fail before any work; mostly-bad training data trains on the rest."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from molvae.api import MolVAE
from molvae.model import VAE
from molvae.train import TrainConfig, TrainError, read_metrics, train

SMALL = dict(batch_size=16, emb_dim=8, dec_hidden=32, enc_hidden=16, latent_dim=4, val_fraction=0.1, seed=0)


@pytest.mark.slow
def test_kill_9_then_resume(tmp_path, tiny_csv):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "molvae", "train", "--data", str(tiny_csv), "--out", str(out), "--epochs", "3",
           "--batch-size", "16", "--dec-hidden", "32", "--enc-hidden", "16", "--latent-dim", "4",
           "--emb-dim", "8", "--checkpoint-minutes", "0.0002"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = out / "checkpoint" / "train_state.json"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if json.loads(state.read_text())["step"] >= 5:
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    r = subprocess.run(cmd + ["--resume"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "resumed from" in r.stderr
    epochs = [json.loads(l)["epoch"] for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert epochs[-1] == 3 and epochs == sorted(set(epochs))
    assert MolVAE.load(out).sample(5, seed=0)["valid"].all()


def test_non_finite_loss_is_skipped_and_reported(tmp_path, tiny_csv, monkeypatch):
    real = VAE.forward
    calls = {"n": 0}

    def flaky(self, x, lengths, sample=True):
        nll, kl, mu = real(self, x, lengths, sample)
        calls["n"] += 1
        if self.training and calls["n"] in (3, 4):
            nll = nll * float("nan")
        return nll, kl, mu

    monkeypatch.setattr(VAE, "forward", flaky)
    logs = []
    train(TrainConfig(data=str(tiny_csv), out=str(tmp_path / "nan"), epochs=1, **SMALL), log=logs.append)
    assert sum("non-finite loss" in l for l in logs) == 2
    state = json.loads((tmp_path / "nan" / "checkpoint" / "train_state.json").read_text())
    assert state["skipped_steps"] == 2
    model = MolVAE.load(tmp_path / "nan").model
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_unwritable_output_fails_before_work(tmp_path, tiny_csv):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(TrainError, match="cannot write to"):
        train(TrainConfig(data=str(tiny_csv), out=str(blocker / "run"), epochs=1, **SMALL))


def test_mostly_bad_training_data_trains_on_the_rest(tmp_path, train_smiles):
    p = tmp_path / "bad.csv"
    bad = ["C1CC", "", "xyz", "C(C)(C)(C)(C)C", "C" * 300] * 40
    p.write_text("smiles\n" + "\n".join(train_smiles[:60] + bad) + "\n")
    logs = []
    train(TrainConfig(data=str(p), out=str(tmp_path / "run"), epochs=1, max_len=60, **SMALL), log=logs.append)
    skipped = [l for l in logs if l.startswith("skipped")]
    assert skipped and "skipped 200 rows" in skipped[0] and "parse error 80" in skipped[0]
    assert "too long 40" in skipped[0] and "valence 40" in skipped[0]
    meta = MolVAE.load(tmp_path / "run").meta
    assert meta["provenance"]["data_rows_used"] == 60


@pytest.mark.slow
def test_distributed_training_with_two_cpu_processes(tmp_path, tiny_csv):
    """torchrun with 2 gloo processes: each trains on half the batches; rank 0 alone writes."""
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "molvae", "train", "--nproc", "2", "--data", str(tiny_csv), "--out", str(out),
           "--epochs", "2", "--batch-size", "16", "--dec-hidden", "32", "--enc-hidden", "16",
           "--latent-dim", "4", "--emb-dim", "8", "--threads", "1", "--device", "cpu"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["epoch"] for m in rows] == [1, 2] and rows[1]["val_nll"] < rows[0]["val_nll"] * 1.05
    assert "2 process(es) on cpu" in r.stderr
    single = json.loads((out / "checkpoint" / "train_state.json").read_text())
    assert single["world"] == 2
    assert MolVAE.load(out).sample(5, seed=0)["valid"].all()
    more = [*cmd[: cmd.index("--epochs") + 1], "3", *cmd[cmd.index("--epochs") + 2:], "--resume"]
    r = subprocess.run(more, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 3


@pytest.mark.slow
def test_sigterm_checkpoints_and_stops_cleanly(tmp_path, tiny_csv):
    out = tmp_path / "term"
    cmd = [sys.executable, "-m", "molvae", "train", "--data", str(tiny_csv), "--out", str(out), "--epochs", "50",
           "--batch-size", "16", "--dec-hidden", "32", "--enc-hidden", "16", "--latent-dim", "4",
           "--emb-dim", "8"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not read_metrics(out / "metrics.jsonl"):  # an epoch has ended
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "stopped by a signal" in err
    state = json.loads((out / "checkpoint" / "train_state.json").read_text())
    assert 1 <= state["epoch"] < 50
