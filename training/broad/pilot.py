"""The broad model's pilot: short learning curves on a subset of the broad training set, to choose the campaign's
recipe on validation data carved from the training molecules (never on zinc250k_test, the MOSES test splits or
the drugs).

    python training/broad/pilot.py [--rows 30000] [--minutes 7] [--runs NAME ...] [--work /tmp/broad_pilot]

1. The broad training file (data/zinc_moses_100k.csv.gz) is prepared with the stage-1 model's vocabulary and split
   exactly as `molvae train` splits it (seed 0: the first 2,000 rows of the permutation are validation). Stage 1
   (training/zinc) and the campaign use this same split, so its validation rows are unseen by every run here.
2. A seeded subset of `--rows` training rows is written out as the pilot's training file.
3. Each setting (RUNS) trains for `--minutes` on that subset with `molvae train` (which carves its own small
   validation split and records a learning curve per epoch in its metrics.jsonl).
4. Every run's last weights are scored on the first 500 validation rows of the full split: exact greedy
   reconstruction (token for token), NLL, KL and the number of latent dimensions whose mean KL is above twice
   the free-bits floor.
Writes training/broad/pilot.json and pilot.md (the learning curves and the held-out figures).
Pilot 5 (`--pilot pilot5 --prior`) also scores each model's prior samples (prior_samples: FCD against validation
molecules), the target that a KL weight trades against reconstruction.
"""
import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from provenance import markdown_line, record  # noqa: E402

from molvae.model import checkpoint, tokens  # noqa: E402
from molvae.train import data as train_data  # noqa: E402
from molvae.model import dims_above_floor  # noqa: E402
from molvae.train.prepare import prepare  # noqa: E402
from molvae.train import read_metrics, validate  # noqa: E402

STAGE1 = "training/zinc/checkpoint"
PROPERTIES = ("qed", "logp", "sa", "plogp", "tpsa", "mw")
COMMON = ["--properties", ",".join(PROPERTIES), "--batch-size", "128", "--lr", "0.0003",
          "--kl-schedule", "constant", "--free-bits", "0.1", "--recon-eval", "300",
          "--checkpoint-minutes", "60", "--epochs", "50"]
RUNS = {  # name -> flags: fine-tuning stage 1 at three KL weights, and the same architecture from scratch
    "ft_beta0.25": ["--init-from", STAGE1, "--beta", "0.25"],
    "ft_beta0.1": ["--init-from", STAGE1, "--beta", "0.1"],
    "ft_beta0.05": ["--init-from", STAGE1, "--beta", "0.05"],
    "scratch_beta0.1": ["--beta", "0.1", "--dec-layers", "3", "--dec-hidden", "512",
                        "--latent-dim", "64"],
}
BROAD = "training/broad/weights"  # the kept weights of their day (git history); 8-bit ones need packed.py unpack first
RUNS2 = {  # the second pilot: from the campaign's kept weights, its recipe (batch 256) against lower KL weights and lr
    "broad_beta0.05": ["--init-from", BROAD, "--batch-size", "256", "--beta", "0.05"],
    "broad_beta0.02": ["--init-from", BROAD, "--batch-size", "256", "--beta", "0.02"],
    "broad_beta0.01": ["--init-from", BROAD, "--batch-size", "256", "--beta", "0.01"],
    "broad_beta0.05_lr1e-4": ["--init-from", BROAD, "--batch-size", "256", "--beta", "0.05", "--lr", "0.0001"],
}
B3 = ["--init-from", BROAD, "--batch-size", "256", "--beta", "0.02"]
RUNS3 = {  # the third pilot: run 4 overfit (training NLL 0.78 -> 0.43, validation flat): dropout at the campaign's lr
    "broad_lr3e-5": [*B3, "--lr", "0.00003"],
    "broad_lr3e-5_do0.1": [*B3, "--lr", "0.00003", "--dropout", "0.1"],
    "broad_lr3e-5_do0.2": [*B3, "--lr", "0.00003", "--dropout", "0.2"],
    "broad_lr1e-4_do0.2": [*B3, "--lr", "0.0001", "--dropout", "0.2"],
}
AVERAGED = "/work/campaign/run7_avg1234"  # run 7's epoch models averaged (choose8.md); --start on a fresh machine
B4 = ["--init-from", AVERAGED, "--batch-size", "256", "--beta", "0.02", "--lr", "0.00001", "--dropout", "0.1"]
RUNS4 = {  # the fourth pilot: a third of the validation misses are molecules over LONG tokens (6% of the rows)
    "avg_plain": B4, "avg_long2": B4, "avg_long4": B4,
}
LONG, LONG_FACTOR = 50, {"avg_long2": 2, "avg_long4": 4}  # the runs whose subset repeats its long molecules
RUN9 = "/work/campaign/run9_ep1"  # run 9's epoch-1 model (choose11.md); --start on a fresh machine
B5 = ["--init-from", RUN9, "--batch-size", "256", "--lr", "0.0001", "--dropout", "0.1"]
RUNS5 = {  # the fifth pilot: prior samples read FCD ~6 at KL 64-70 nats; what a higher KL weight costs and buys
    f"kl{b}": [*B5, "--beta", b] for b in ("0.02", "0.05", "0.1", "0.2")
}
PILOTS = {"pilot": (RUNS, STAGE1), "pilot2": (RUNS2, BROAD), "pilot3": (RUNS3, BROAD), "pilot4": (RUNS4, AVERAGED),
          "pilot5": (RUNS5, RUN9)}
NEUTRAL = ROOT / "data" / "zinc_moses_100k_neutral.csv.gz"  # prior samples: mixture fitted on its rows 2,000-22,000,
FIT_ROWS, REF_SKIP = (2000, 22000), 100_000                 # FCD against its 30,000 rows after row 100,000


def split(data: str, prepared_in: Path):
    """The full file prepared as the campaign's `molvae train` prepares it (stage 1's vocabulary, the recipe's
    property labels; reused by the campaign when prepared_in is its --out), and its (validation, training)
    rows as molvae train carves them (molvae.train.data.carve)."""
    _, vocab, _ = checkpoint.load_model(ROOT / STAGE1)
    vocab, ts = prepare(data, prepared_in, None, vocab, 0, 2, print, PROPERTIES, extend=True)
    val, trn = train_data.carve(ts, 0, 0.02, 2000)
    return vocab, ts, val, trn


def smiles_of(vocab, ts, rows: np.ndarray) -> list[str]:
    return [tokens.selfies_to_smiles(vocab.decode_ids(ts.ids[r, : int(ts.lengths[r])])) for r in rows]


def write_subset(smiles: list[str], path: Path) -> None:
    import gzip

    with gzip.open(path, "wt") as fh:
        fh.write("SMILES\n" + "".join(s + "\n" for s in smiles))


def oversampled(smiles: list[str], lengths: np.ndarray, factor: int) -> list[str]:
    """The subset with factor - 1 more copies of each molecule over LONG tokens (seen factor times an epoch)."""
    return smiles + [s for s, n in zip(smiles, lengths) if n > LONG] * (factor - 1)


def held_out(model_dir: Path, smiles: list[str]) -> dict:
    """Figures on the held-out molecules, tokenized with the run's own vocabulary (a molecule it cannot
    encode counts as not reconstructed). The NLL is a one-sample estimate (z drawn from q(z|x)): the draws are
    seeded so that candidates are compared on the same noise (unseeded, one model's NLL on 500 rows read 0.85 and
    0.92 in two scorings)."""
    model, vocab, _ = checkpoint.load_model(model_dir)
    ts = train_data.tokenize(smiles, vocab)
    torch.manual_seed(0)
    m = validate(model, ts, np.arange(len(ts)), 128, len(ts))
    informative = dims_above_floor(m["kl_per_dim"], 0.1)
    return {"heldout_encodable": len(ts), "heldout_recon_exact": round(m["val_recon_exact"] * len(ts) / len(smiles), 4),
            "heldout_nll": m["val_nll"], "heldout_kl": m["val_kl"], "dims_above_2x_floor": informative}


def prior_samples(model_dir: Path, fit_smiles: list[str], ref) -> dict:
    """FCD and uniqueness of 5,000 greedy, strictly decoded draws from a 100-component mixture fitted to the mu
    of fit_smiles (benchmarks/prior_choice.py's protocol, smaller): the prior-sample target read on validation."""
    from molvae import MolVAE, metrics
    from molvae.model.prior import GaussianMixture

    vae = MolVAE.load(model_dir)
    mu = vae.encode(fit_smiles)
    vae._prior = GaussianMixture.fit(mu[np.isfinite(mu).all(1)], 100, seed=0)
    smiles = vae.sample(5000, greedy=True, seed=1, prior="learned", relaxed=False)["smiles"].tolist()
    s = metrics.sample_scores(smiles, np.empty(0, np.uint64), ref)  # a checkpoint carries no training set
    return {"prior_fcd": s["fcd"], "prior_unique": s["unique"]}


def prior_cell(r: dict) -> str:
    return f" {r['prior_fcd']} ({r['prior_unique']}) |" if "prior_fcd" in r else ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="data/zinc_moses_100k.csv.gz")
    ap.add_argument("--rows", type=int, default=30000)
    ap.add_argument("--minutes", type=float, default=7.0)
    ap.add_argument("--pilot", choices=list(PILOTS), default="pilot",
                    help="pilot: from stage 1; pilot2, pilot3: from the campaign's kept weights (writes PILOT.{json,md})")
    ap.add_argument("--runs", nargs="+", help="a subset of the pilot's runs (default: all)")
    ap.add_argument("--work", default="/tmp/broad_pilot")
    ap.add_argument("--campaign", default="/work/campaign/broad", help="the campaign's --out (data prepared there)")
    ap.add_argument("--threads", type=int, default=1, help="1 keeps its speed when other work shares the 2 cores")
    ap.add_argument("--start", help="the weights the runs start from (default: the pilot's)")
    ap.add_argument("--heldout", type=int, default=500, help="validation rows scored (pilot4: 2000, every row)")
    ap.add_argument("--prior", action="store_true", help="also score prior samples (prior_samples; pilot5)")
    a = ap.parse_args()
    runs, start = PILOTS[a.pilot]
    if a.start:
        runs = {n: [a.start if f == start else f for f in flags] for n, flags in runs.items()}
        start = a.start
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    vocab, ts, val_rows, trn_rows = split(a.data, Path(a.campaign))
    subset = work / "pilot_train.csv.gz"
    pick = np.random.default_rng(1).choice(trn_rows, size=a.rows, replace=False)
    picked = smiles_of(vocab, ts, pick)
    write_subset(picked, subset)  # rewritten every time: a file left by another --rows would change the pilot
    for name, factor in LONG_FACTOR.items():
        if name in runs:
            write_subset(oversampled(picked, ts.lengths[pick], factor), work / f"{name}.csv.gz")
    val_smiles = smiles_of(vocab, ts, val_rows[: a.heldout])
    long_smiles = [s for s, r in zip(val_smiles, val_rows) if ts.lengths[r] > LONG]

    if a.prior:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from molvae.io import tables
        from validation import reference
        ref, fit_smiles = reference("validation", NEUTRAL, skip=REF_SKIP), tables.read_smiles(NEUTRAL)[slice(*FIT_ROWS)]

    def figures(model_dir: Path) -> dict:
        """held_out on the validation rows, exact reconstruction of the long ones among them, and with --prior
        prior_samples."""
        return {**held_out(model_dir, val_smiles),
                "long_recon_exact": held_out(model_dir, long_smiles)["heldout_recon_exact"],
                **(prior_samples(model_dir, fit_smiles, ref) if a.prior else {})}
    torch.set_num_threads(a.threads)
    results = {}
    for name in a.runs or list(runs):
        out = work / name
        shutil.rmtree(out, ignore_errors=True)
        data = work / f"{name}.csv.gz" if name in LONG_FACTOR else subset
        cmd = [sys.executable, "-m", "molvae", "train", "--data", str(data), "--out", str(out),
               "--max-minutes", str(a.minutes), "--threads", str(a.threads), *COMMON, *runs[name]]
        t0 = time.time()
        subprocess.run(cmd, check=True, cwd=ROOT)
        curve = [{k: r.get(k) for k in ("epoch", "step", "molecules_per_s", "val_recon_exact", "val_nll", "val_kl")}
                 for r in read_metrics(out / "metrics.jsonl")]
        results[name] = {"flags": runs[name], "wall_minutes": round((time.time() - t0) / 60, 1),
                         "curve": curve, **figures(out / "checkpoint")}
        print(name, results[name], flush=True)
    stage1 = figures(ROOT / start)
    res = {"data": a.data, "subset_rows": a.rows, "minutes_per_run": a.minutes, "heldout_rows": len(val_smiles),
           "long_rows": len(long_smiles),
           "start": start, "stage1_start": stage1, "runs": results, **record({"start": ROOT / start})}
    (ROOT / f"training/broad/{a.pilot}.json").write_text(json.dumps(res, indent=2) + "\n")
    lines = [f"# Broad-model pilot: {a.minutes:g} minutes a run on {a.rows:,} training molecules", "",
             f"Held-out figures: {len(val_smiles):,} validation rows of the broad set's own split (unseen by stage 1"
             f" and by every run; {len(long_smiles)} of them over {LONG} tokens). Curve: the run's own small validation"
             " split, one point per epoch.", "",
             f"| run | epochs | molecules/s | held-out exact recon | over {LONG} tokens | NLL | KL | dims > 2x floor |"
             f"{' prior samples: FCD (unique) |' if a.prior else ''} curve (recon) |",
             "|---|---|---|---|---|---|---|---|---|" + ("---|" if a.prior else ""),
             f"| {start} (start) | - | - | {stage1['heldout_recon_exact']:.3f} | {stage1['long_recon_exact']:.3f} |"
             f" {stage1['heldout_nll']:.2f} | {stage1['heldout_kl']:.1f} | {stage1['dims_above_2x_floor']} |"
             f"{prior_cell(stage1)} - |"]
    for name, r in results.items():
        c = r["curve"]
        lines.append(f"| {name} | {len(c)} | {c[-1]['molecules_per_s'] if c else '-'} |"
                     f" {r['heldout_recon_exact']:.3f} | {r['long_recon_exact']:.3f} | {r['heldout_nll']:.2f} |"
                     f" {r['heldout_kl']:.1f} | {r['dims_above_2x_floor']} |{prior_cell(r)}"
                     f" {' '.join(str(p['val_recon_exact']) for p in c)} |")
    if a.prior:
        lines += ["", f"Prior samples: 5,000 greedy, strictly decoded draws from a 100-component mixture fitted to the"
                  f" mu of rows {FIT_ROWS[0]:,}-{FIT_ROWS[1]:,} of {NEUTRAL.name}; FCD against its 30,000 training"
                  f" rows after row {REF_SKIP:,} (benchmarks/validation.py)."]
    lines += ["", markdown_line(res)]
    (ROOT / f"training/broad/{a.pilot}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
