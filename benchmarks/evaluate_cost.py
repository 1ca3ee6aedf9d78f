"""What `molvae evaluate` costs on this machine, with all cores.

1. metrics.evaluate of N samples of the bundled `moses` model (against both shipped MOSES references, novelty
   against the model's training-set hashes): wall seconds.
2. With --train FILE (the issue's case: 10,000 samples, the 1.58M MOSES train file): `molvae evaluate gen.csv
   --train FILE` run twice from the command line, first with an empty cache (the file's canonical-molecule
   hashes are computed in --workers processes and cached), then again (read from the cache): wall seconds and
   peak resident memory of the whole process tree.

    python benchmarks/evaluate_cost.py [-n 30000] [--train data/moses_train_full.csv.gz --train-n 10000]

Writes benchmarks/results/evaluate_cost.json and .md (evaluate_cost_train.* with --train).
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import markdown_line, record  # noqa: E402
from score_speed import run_tree  # noqa: E402

from molvae import MolVAE, metrics  # noqa: E402
from molvae.model.checkpoint import load_training_set  # noqa: E402
from molvae.io.tables import read_smiles  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def samples_only(n: int) -> None:
    vae = MolVAE.load("moses")
    prov = record({"moses": vae})
    smiles = vae.sample(n, seed=0)["smiles"].tolist()
    workers = os.cpu_count() or 1
    t = time.time()
    res = metrics.evaluate(smiles, train=load_training_set(vae.path), workers=workers)
    seconds = time.time() - t
    out = {"n": n, "workers": workers, "evaluate_seconds": round(seconds, 1), "fcd": round(res["fcd"], 4), **prov}
    dest = RESULTS / "evaluate_cost"
    dest.with_suffix(".json").write_text(json.dumps(out, indent=2) + "\n")
    dest.with_suffix(".md").write_text(f"# molvae evaluate of {n:,} samples\n\n{seconds:.0f} s with {workers}"
                                       f" worker process(es) (FCD/Test {res['fcd']:.3f}).\n\n{markdown_line(out)}\n")
    print(out)


def with_train_file(n: int, train: Path) -> None:
    vae = MolVAE.load("moses")
    prov = record({"moses": vae})  # before the runs: the code and weights they use
    tmp = Path(tempfile.mkdtemp())
    gen = tmp / "gen.csv"
    vae.sample(n, seed=0)[["smiles"]].to_csv(gen, index=False)
    os.environ["MOLVAE_CACHE"] = str(tmp / "cache")  # an empty cache: the first run computes the hashes
    cmd = [sys.executable, "-m", "molvae", "evaluate", str(gen), "--train", str(train), "--quiet"]
    runs = {}
    for name in ("first", "cached"):
        seconds, peak = run_tree([*cmd, "-o", str(tmp / f"{name}.json")])
        runs[name] = {"seconds": round(seconds, 1), "peak_rss_mib": round(peak)}
    rows = len(read_smiles(train))
    out = {"n": n, "train_file": train.name, "train_rows": rows, "workers": os.cpu_count() or 1, "runs": runs,
           "novelty": json.loads((tmp / "cached.json").read_text())["novelty"], **prov}
    dest = RESULTS / "evaluate_cost_train"
    dest.with_suffix(".json").write_text(json.dumps(out, indent=2) + "\n")
    lines = [f"# molvae evaluate of {n:,} samples with --train {train.name}", "",
             f"| run ({out['workers']} cores) | seconds | peak RSS, process tree (MiB) |", "|---|---|---|"]
    lines += [f"| {k} ({'hashes computed and cached' if k == 'first' else 'hashes read from the cache'}) |"
              f" {r['seconds']:.0f} | {r['peak_rss_mib']:,} |" for k, r in runs.items()]
    dest.with_suffix(".md").write_text("\n".join(lines + ["", f"novelty {out['novelty']}", "",
                                                          markdown_line(out)]) + "\n")
    print(dest.with_suffix(".md").read_text())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30_000)
    ap.add_argument("--train", type=Path, help="also time `molvae evaluate --train FILE` (first and cached)")
    ap.add_argument("--train-n", type=int, default=10_000, help="samples for the --train case")
    args = ap.parse_args()
    if args.train:
        with_train_file(args.train_n, args.train)
    else:
        samples_only(args.n)


if __name__ == "__main__":
    main()
