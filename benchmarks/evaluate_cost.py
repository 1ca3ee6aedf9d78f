"""What `molvae evaluate` of 30,000 samples costs on this machine: wall seconds of metrics.evaluate (against
both shipped MOSES references, novelty against the model's training-set hashes) with all cores.

    python benchmarks/evaluate_cost.py [-n 30000]

Writes benchmarks/results/evaluate_cost.json and .md.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import markdown_line, record  # noqa: E402

from molvae import MolVAE, metrics  # noqa: E402
from molvae.checkpoint import load_training_set  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30_000)
    args = ap.parse_args()
    vae = MolVAE.load()
    smiles = vae.sample(args.n, seed=0)["smiles"].tolist()
    workers = os.cpu_count() or 1
    t = time.time()
    res = metrics.evaluate(smiles, train=load_training_set(vae.path), workers=workers)
    seconds = time.time() - t
    out = {"n": args.n, "workers": workers, "evaluate_seconds": round(seconds, 1), "fcd": round(res["fcd"], 4),
           **record({"default": vae})}
    dest = ROOT / "benchmarks" / "results" / "evaluate_cost"
    dest.with_suffix(".json").write_text(json.dumps(out, indent=2) + "\n")
    dest.with_suffix(".md").write_text(f"# molvae evaluate of {args.n:,} samples\n\n{seconds:.0f} s with {workers}"
                                       f" worker process(es) (FCD/Test {res['fcd']:.3f}).\n\n{markdown_line(out)}\n")
    print(out)


if __name__ == "__main__":
    main()
