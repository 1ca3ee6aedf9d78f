import subprocess
import sys

import pandas as pd
import pytest

from molvae import chem
from molvae import MolVAE
from molvae.cli import main


def run(*args):
    """The CLI in a fresh process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "molvae", *map(str, args)], capture_output=True, text=True)


def test_sample_writes_valid_molecules_and_is_deterministic(tmp_path, tiny_model, capsys):
    out1, out2 = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["sample", "-n", "25", "--model", str(tiny_model), "--seed", "7", "-o", str(out1)]) == 0
    assert main(["sample", "-n", "25", "--model", str(tiny_model), "--seed", "7", "-o", str(out2)]) == 0
    a, b = pd.read_csv(out1, keep_default_na=False), pd.read_csv(out2, keep_default_na=False)
    assert len(a) == 25 and list(a.columns[:3]) == ["smiles", "selfies", "valid"]
    assert a.equals(b)
    assert a["valid"].all() and all(chem.canonical(s) == s for s in a["smiles"])
    assert "sampled 25 molecules" in capsys.readouterr().err
    assert main(["sample", "-n", "25", "--model", str(tiny_model), "--seed", "8", "-o", str(out2)]) == 0
    assert not a.equals(pd.read_csv(out2, keep_default_na=False))


def test_reconstruct_keeps_every_row(tmp_path, tiny_model, capsys):
    src = tmp_path / "in.csv"
    src.write_text("name,smiles\na,CCO\nb,C1CC\nc,\nd,c1ccccc1C(=O)N\ne,[U]\n")
    out = tmp_path / "out.csv"
    assert main(["reconstruct", str(src), "-o", str(out), "--model", str(tiny_model)]) == 0
    df = pd.read_csv(out, keep_default_na=False)
    assert list(df["name"]) == ["a", "b", "c", "d", "e"]
    assert list(df["error"])[1:3] == ["parse error", "empty"] and df["error"][4].startswith("unknown token")
    assert not df["recon_exact"][1] and df["reconstruction"][1] == ""
    assert "exact" in capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["sample", "-n", "0"], "-n must be positive"),
    (["sample", "-n", "-3"], "-n must be positive"),
    (["sample", "--temperature", "0"], "--temperature must be a positive number"),
    (["sample", "--model", "/nonexistent/model"], "model not found"),
    (["sample", "-o", "/nonexistent/dir/out.csv"], "output directory does not exist"),
    (["reconstruct", "/nonexistent.csv", "-o", "x.csv"], "file not found"),
    (["train", "--data", "/nonexistent.csv", "--out", "x"], "training data not found"),
    (["train", "--out", "x"], "--data is required"),
    (["frobnicate"], "invalid choice"),
])
def test_user_errors_are_one_line(args, message, tmp_path):
    r = run(*args)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1


def test_damaged_model_on_the_command_line(tmp_path, tiny_model):
    import shutil

    d = tmp_path / "broken"
    shutil.copytree(tiny_model / "model", d)
    (d / "model.safetensors").write_bytes(b"\x00" * 100)
    r = run("sample", "-n", "3", "--model", d)
    assert r.returncode == 2 and "damaged weights file" in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_train_from_the_command_line_and_resume(tmp_path, tiny_csv):
    out = tmp_path / "cli"
    toml = tmp_path / "run.toml"
    toml.write_text("[train]\nepochs = 1\nbatch-size = 64\nhidden-dim = 32\nenc-hidden-dim = 16\nlatent-dim = 4\n"
                    "emb-dim = 8\n")
    r = run("train", "--data", tiny_csv, "--out", out, "--config", toml)
    assert r.returncode == 0, r.stderr
    r = run("train", "--data", tiny_csv, "--out", out, "--epochs", "2", "--resume")
    assert r.returncode == 0, r.stderr
    assert "resumed from" in r.stderr and len((out / "metrics.jsonl").read_text().splitlines()) == 2
    r = run("sample", "-n", "3", "--model", out)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 3


def test_relaxed_sampling_reports_discards(tmp_path, tiny_model, capsys):
    out = tmp_path / "r.csv"
    assert main(["sample", "-n", "10", "--relaxed", "--model", str(tiny_model), "-o", str(out)]) == 0
    df = pd.read_csv(out, keep_default_na=False)
    assert len(df) == 10 and df["valid"].all()
    err = capsys.readouterr().err
    assert "drew" in err and "discarded" in err


def test_rerank_keeps_the_most_likely(tiny_model):
    from molvae.api import MolVAE

    vae = MolVAE.load(tiny_model)
    pool = vae.sample(30, seed=5)
    best = vae.sample(10, seed=5, rerank=3)
    assert len(best) == 10 and best.attrs["discarded"]["re-ranked out"] == 20
    per_token = lambda df: df["loglik"] / (df["selfies"].str.count(r"\[") + 1)  # noqa: E731
    assert per_token(best).min() >= per_token(pool).median()
    assert set(best["smiles"]) <= set(pool["smiles"])


@pytest.mark.slow
def test_a_bundled_model_by_name(tmp_path):
    out = tmp_path / "s.csv"
    r = run("sample", "-n", "5", "--seed", "1", "--model", "fast", "-o", out)
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out)
    assert len(df) == 5 and df["valid"].all()
    r = run("sample", "--model", "quick")
    assert r.returncode == 2 and "bundled models: default, broad, fast, moses" in r.stderr


def test_train_starts_from_the_bundled_recipe_unless_told_otherwise():
    """`molvae train` without a config trains the bundled default model's architecture (flags still win)."""
    import json
    from pathlib import Path

    from molvae.cli import build_parser
    from molvae.cli.train import _settings
    from molvae.train.config import TrainConfig

    bundled = json.loads((Path(__file__).resolve().parent.parent / "training" / "default" / "config.json").read_text())
    args = build_parser().parse_args(["train", "--data", "d.csv", "--out", "o"])
    cfg = TrainConfig(**_settings(args))
    assert (cfg.dec_hidden, cfg.dec_layers, cfg.enc_hidden, cfg.latent_dim, cfg.beta, cfg.batch_size) == (
        bundled["hidden_dim"], bundled["dec_layers"], bundled["enc_hidden_dim"], bundled["latent_dim"],
        bundled["beta"], bundled["batch_size"])
    fast = TrainConfig(**_settings(build_parser().parse_args(["train", "--preset", "fast", "--dec-layers", "1"])))
    assert (fast.dec_hidden, fast.dec_layers) == (384, 1) and "qed" in fast.properties
    small = TrainConfig(**_settings(build_parser().parse_args(["train", "--preset", "none"])))
    assert small.dec_layers == TrainConfig().dec_layers == 1


def test_reconstruct_and_encode_stream_the_file_in_chunks(tmp_path, tiny_model, train_smiles):
    import numpy as np

    src = tmp_path / "in.csv"
    pd.DataFrame({"smiles": train_smiles[:7] + ["C1CC", ""] + train_smiles[7:12]}).to_csv(src, index=False)
    whole, chunked = tmp_path / "whole.csv", tmp_path / "chunked.csv"
    # one molecule per model batch in both runs, so the comparison tests the chunking alone (a different batch
    # composition may flip a near-tie of the tiny model's greedy decode)
    assert run("reconstruct", src, "-o", whole, "--model", tiny_model, "--batch-size", "1").returncode == 0
    r = run("reconstruct", src, "-o", chunked, "--model", tiny_model, "--chunk-size", "3", "--batch-size", "1")
    assert r.returncode == 0 and "14 rows" in r.stderr
    pd.testing.assert_frame_equal(pd.read_csv(whole), pd.read_csv(chunked))
    npy = tmp_path / "mu.npy"
    assert run("encode", src, "-o", npy, "--model", tiny_model, "--chunk-size", "2").returncode == 0
    want = MolVAE.load(tiny_model).encode(pd.read_csv(src, keep_default_na=False)["smiles"].tolist())
    np.testing.assert_allclose(np.load(npy), want, rtol=1e-5, atol=1e-6)
    assert np.isnan(np.load(npy)[7:9]).all() and len(np.load(npy)) == 14


def test_training_hashes_are_computed_once_per_file(tmp_path, monkeypatch, train_smiles):
    import numpy as np

    from molvae import chem
    from molvae.metrics import moses as metrics

    monkeypatch.setattr(metrics, "CACHE_DIR", tmp_path / "cache")
    src = tmp_path / "train.csv"
    pd.DataFrame({"smiles": train_smiles[:50] + ["nonsense"]}).to_csv(src, index=False)
    h = metrics.training_hashes(src, workers=2)
    assert np.array_equal(h, np.unique(chem.smiles_hashes(metrics.canonical_valid(train_smiles[:50]))))
    assert len(list((tmp_path / "cache").glob("train-*.npy"))) == 1
    monkeypatch.setattr(metrics, "canonical_valid", lambda s: 1 / 0)  # a second call reads the cache
    assert np.array_equal(metrics.training_hashes(src), h)
    assert metrics.novelty(train_smiles[:3] + ["CCCCCCCCCCCCCCCCCC"], h) == 0.25


def test_help_documents_the_exit_statuses():
    r = run("--help")
    assert r.returncode == 0
    text = r.stdout[r.stdout.index("exit status:"):]
    for status, meaning in [("0", "success"), ("2", "a user error"), ("3", "a shortfall"), ("1", "a bug")]:
        assert any(line.split()[:1] == [status] and meaning in line for line in text.splitlines()), (status, text)


def test_a_bug_exits_1_with_its_traceback_and_a_user_error_2_in_one_line(tiny_model, monkeypatch, capsys):
    """A plain ValueError from inside molvae is a bug, not a user error: it is not hidden behind one line."""
    from molvae.errors import MolvaeError

    def broken(self, *a, **k):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(MolVAE, "sample", broken)
    assert main(["sample", "-n", "3", "--model", str(tiny_model)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError: operands could not be broadcast together" in err
    assert "internal error" in err.strip().splitlines()[-1]

    def refused(self, *a, **k):
        raise MolvaeError("temperature must be positive")

    monkeypatch.setattr(MolVAE, "sample", refused)
    assert main(["sample", "-n", "3", "--model", str(tiny_model)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == ["molvae sample: error: temperature must be positive"]


def test_every_option_of_every_command_has_help():
    import argparse

    from molvae.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {a.option_strings or a.dest}" for name, p in sub.choices.items() for a in p._actions
               if not isinstance(a, argparse._HelpAction) and not a.help]
    assert len(sub.choices) >= 12 and missing == []


@pytest.mark.parametrize("flag", [["--relaxed"], ["--strict"], ["--latent-scale", "0.5"], ["--keep-invalid"],
                                  ["--workers", "2"], ["--quiet"], ["--rerank", "2"]])
def test_guided_sampling_refuses_the_options_it_would_ignore(flag, capsys):
    assert main(["sample", "-n", "2", "--where", "qed >= 0.5", *flag]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"molvae sample: error: {flag[0]} does not apply with --where (guided sampling)"]


def test_score_refuses_options_its_mode_ignores(tmp_path, capsys):
    src = tmp_path / "in.smi"
    src.write_text("CCO\n")
    assert main(["score", str(src), "-o", str(tmp_path / "o.csv"), "--scheduler", "tcp://x:1"]) == 2
    assert main(["score", str(src), "-o", str(tmp_path / "o.csv"), "--no-model", "--model", "fast"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["molvae score: error: --scheduler does not apply with --engine local",
                   "molvae score: error: --model does not apply with --no-model"]


def test_workers_default_to_the_cpus_the_process_may_use():
    """Under an affinity mask of one CPU (taskset, a cgroup cpuset), the default is 1, not the machine's count."""
    import os

    code = ("import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]});"
            "from molvae.chem.pools import available_cpus; from molvae.cli import build_parser;"
            "a = build_parser().parse_args(['prepare', '--data', 'd', '--out', 'o']);"
            "print(available_cpus(), a.workers)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1", "1"]


def test_one_device_default_for_inference_and_training():
    import argparse

    from molvae.cli import build_parser
    from molvae.cli.train import _settings
    from molvae.train.config import TrainConfig

    ap = build_parser()
    sub = next(a for a in ap._actions if isinstance(a, argparse._SubParsersAction))
    defaults = {name: a.default for name, p in sub.choices.items() for a in p._actions if a.dest == "device"}
    assert {"sample", "score", "optimize", "train", "evaluate"} <= set(defaults)
    # a command that runs the model leaves --device unset (None) so a mode that ignores it can refuse it;
    # cli.common.runtime then fills the one default
    from molvae.cli.common import runtime

    assert {v for k, v in defaults.items() if k != "train"} <= {"cpu", None}
    assert runtime(argparse.Namespace(device=None))["device"] == "cpu"
    assert runtime(ap.parse_args(["score", "in.csv", "-o", "o.csv"]))["device"] == "cpu"
    assert TrainConfig(**_settings(ap.parse_args(["train", "--data", "d.csv", "--out", "o"]))).device == "cpu"
    import inspect

    assert inspect.signature(MolVAE.load).parameters["device"].default == "cpu"


def test_a_python_objective_runs_from_the_installed_script_only_with_allow_python(tmp_path, tiny_model):
    """The `molvae` console script's import path starts at its own bin folder, not the current directory."""
    import os
    from pathlib import Path

    import molvae

    bin_dir, work = tmp_path / "bin", tmp_path / "work"
    bin_dir.mkdir()
    work.mkdir()
    script = bin_dir / "molvae"  # what pip writes for [project.scripts]
    script.write_text("import sys\nfrom molvae.cli import main\nif __name__ == '__main__':\n    sys.exit(main())\n")
    (work / "my_objective.py").write_text("def length(smiles):\n    return [len(s) for s in smiles]\n")
    env = {**os.environ, "PYTHONPATH": str(Path(molvae.__file__).resolve().parent.parent)}  # this molvae
    args = [sys.executable, str(script), "optimize", "--objective", "my_objective:length", "--budget", "5",
            "--method", "random", "-o", "log.csv", "--quiet", "--model", str(tiny_model)]
    r = subprocess.run(args, cwd=work, capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "runs only with --allow-python" in r.stderr
    r = subprocess.run(args + ["--allow-python"], cwd=work, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    log = pd.read_csv(work / "log.csv")
    assert len(log) == 5 and (log["score"] == log["smiles"].str.len()).all()
