"""Training throughput on this machine: molecules/s of a fixed number of optimizer steps, for several settings of
one architecture, all measured in one run on the same molecules, so the ratios compare like with like.

    python benchmarks/train_speed.py [--model training/zinc/checkpoint] [--data data/zinc_moses_100k.csv.gz]
        [--n 12000] [--steps 40] [--settings fp32:128:2 bf16:128:2 ...] [--name train_speed]

Each setting is precision:batch size:torch threads. The first setting is the reference (the recipe the stage-1
broad model was trained with: float32, batch 128, 2 threads); the table gives every setting's rate and its ratio to the reference.
A step is what molvae's trainer does (molvae/train.py): length-bucketed batch, encoder, reparameterization,
teacher-forced decoder, free-bits KL, the property head's loss when the model has one, backward, gradient
clipping, Adam. `bf16` is bfloat16 autocast (molvae.model.device.bf16_autocast; needs AMX or AVX-512 BF16, else it
runs float32 and says so). Weights are the model's, copied afresh for each setting; the first 3 steps of each
setting are warm-up and not timed. Writes benchmarks/results/<name>.json and .md.
"""
import argparse
import copy
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import markdown_line, record, save  # noqa: E402

from molvae import chem
from molvae.model import checkpoint  # noqa: E402
from molvae.io import tables  # noqa: E402
from molvae.train import data  # noqa: E402
from molvae.model.device import bf16_autocast, cpu_has_bf16  # noqa: E402
from molvae.model.vae import batch_loss  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def molecules(path: str, n: int, vocab, seed: int = 0) -> data.TokenizedSet:
    smiles = tables.read_smiles(path)
    pick = np.random.default_rng(seed).choice(len(smiles), size=min(n, len(smiles)), replace=False)
    canon = [chem.canonical(smiles[i]) for i in pick]
    return data.tokenize([s for s in canon if s], vocab)


def rate(model, ts: data.TokenizedSet, precision: str, batch_size: int, steps: int, threads: int) -> dict:
    """Molecules/s over `steps` timed training steps (after 3 untimed ones)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = copy.deepcopy(model).train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    amp = bf16_autocast(torch.device("cpu"), precision == "bf16")
    batches = data.bucketed_batches(ts.lengths, batch_size, np.random.default_rng(1))
    if len(batches) < steps + 3:
        raise SystemExit(f"--n gives {len(batches)} batches of {batch_size}; need {steps + 3}")
    seen, t0 = 0, 0.0
    for i, b in enumerate(batches[: steps + 3]):
        if i == 3:
            seen, t0 = 0, time.perf_counter()
        b = np.sort(b)
        lengths = torch.from_numpy(ts.lengths[b].astype(np.int64))
        x = torch.from_numpy(ts.ids[b, : int(lengths.max())].astype(np.int64))
        # the trainer's loss; the recipe's head is trained on zero targets here (the same cost as its labels)
        y = torch.zeros(len(b), len(model.cfg.properties)) if model.cfg.properties else None
        with amp:
            loss = batch_loss(model, x, lengths, y, 0.25, 0.1)[0]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        seen += len(b)
    secs = time.perf_counter() - t0
    return {"precision": precision, "batch_size": batch_size, "threads": threads, "steps": steps, "molecules": seen,
            "seconds": round(secs, 2), "molecules_per_s": round(seen / secs, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="training/zinc/checkpoint")
    ap.add_argument("--data", default="data/zinc_moses_100k.csv.gz")
    ap.add_argument("--n", type=int, default=12000)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--settings", nargs="+", default=["fp32:128:2", "bf16:128:2", "bf16:256:2", "bf16:64:2",
                                                        "fp32:128:1", "bf16:128:1"])
    ap.add_argument("--name", default="train_speed")
    a = ap.parse_args()
    model, vocab, _ = checkpoint.load_model(a.model)
    ts = molecules(a.data, a.n, vocab)
    rows = []
    for s in a.settings:
        precision, bs, threads = s.split(":")
        rows.append(rate(model, ts, precision, int(bs), a.steps, int(threads)))
        print(rows[-1], flush=True)
    ref = rows[0]["molecules_per_s"]
    for r in rows:
        r["ratio_to_first"] = round(r["molecules_per_s"] / ref, 2)
    n_params = sum(p.numel() for p in model.parameters())
    res = {"model": a.model, "parameters": n_params, "data": a.data, "molecules_pool": len(ts),
           "mean_tokens": round(float(ts.lengths.mean()), 1), "cpu_bf16": cpu_has_bf16(),
           "cpu_count": os.cpu_count(), "rows": rows, **record({a.model: ROOT / a.model})}
    lines = [f"# Training throughput ({a.model}, {n_params:,} parameters)", "",
             f"{len(ts):,} molecules of {a.data} (mean {res['mean_tokens']} tokens), {a.steps} timed steps a"
             f" setting; bfloat16 units on this CPU: {res['cpu_bf16']}.", "",
             "| precision | batch | threads | molecules/s | ratio to the first row |", "|---|---|---|---|---|"]
    lines += [f"| {r['precision']} | {r['batch_size']} | {r['threads']} | {r['molecules_per_s']:.0f} |"
              f" {r['ratio_to_first']:.2f} |" for r in rows]
    lines += ["", markdown_line(res)]
    save(a.name, res, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
