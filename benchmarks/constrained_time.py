"""How long a constrained optimization takes: the constrained run of docs/optimization.md (penalized logP from
ibuprofen, which the `moses` model does not reconstruct from mu, similarity floor 0.4, seed 3) at several budgets,
for each method.

    python benchmarks/constrained_time.py [--budgets 40 100 400] [--methods bo gradient]

Records the time of inverting the start (MolVAE.invert, which every run does first), and per run wall seconds,
oracle calls, decodes below the floor, why the run stopped, the best improvement and the
number of surrogate fits' failures. Writes benchmarks/results/<name>.json and .md (default constrained_time)
after every run.
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import markdown_line, record  # noqa: E402

from molvae import MolVAE  # noqa: E402
from molvae.optimize import optimize  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
IBUPROFEN = "CC(C)Cc1ccc(C(C)C(=O)O)cc1"


def run(vae, method: str, budget: int, seed: int) -> dict:
    t = time.time()
    res = optimize(vae, "plogp", budget, method=method, start=IBUPROFEN, similarity_min=0.4, seed=seed)
    s = res.summary
    return {"method": method, "budget": budget, "seed": seed, "seconds": round(time.time() - t, 1),
            "calls": s["calls"], "below_floor": s.get("below_floor"), "stopped": s["stopped"],
            "improvement": s.get("improvement"), "best": s.get("best_score"),
            "gp_fit_failures": s.get("gp_fit_failures", 0)}


def write(rows: list, invert: dict, prov: dict, seed: int, name: str) -> None:
    out = {"task": "plogp from ibuprofen, similarity >= 0.4", "start": IBUPROFEN, "rows": rows,
           "inversion": invert, **prov}
    dest = ROOT / "benchmarks" / "results" / name
    dest.with_suffix(".json").write_text(json.dumps(out, indent=2) + "\n")
    lines = ["# Constrained optimization: time by budget", "",
             f"`molvae optimize --objective plogp --start '{IBUPROFEN}' --similarity-min 0.4 --seed {seed}`"
             " on the `moses` model.", "",
             "| method | budget | seconds | calls | below the floor | stopped | improvement |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        imp = "-" if r["improvement"] is None else f"{r['improvement']:.2f}"
        lines.append(f"| {r['method']} | {r['budget']} | {r['seconds']:.0f} | {r['calls']} | {r['below_floor']} |"
                     f" {r['stopped']} | {imp} |")
    lines += ["", f"Inverting the start (MolVAE.invert) took {invert['seconds']:.1f} s; the latent found decodes to"
              f" ibuprofen: {invert['decodes_to_start']}."]
    dest.with_suffix(".md").write_text("\n".join(lines) + "\n\n" + markdown_line(out) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budgets", type=int, nargs="+", default=[40, 100, 400])
    ap.add_argument("--methods", nargs="+", default=["bo", "gradient"])
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--name", default="constrained_time", help="results file name")
    args = ap.parse_args()
    vae = MolVAE.load("moses")
    prov = record({"moses": vae})
    t = time.time()
    _, decodes_back = vae.invert(IBUPROFEN)  # what every run below does first (inversion of the start)
    invert = {"seconds": round(time.time() - t, 2), "decodes_to_start": bool(decodes_back)}
    rows = []
    for method in args.methods:
        for budget in args.budgets:
            rows.append(run(vae, method, budget, args.seed))
            print(rows[-1], flush=True)
            write(rows, invert, prov, args.seed, args.name)  # after every run: a long one stopped keeps the rest


if __name__ == "__main__":
    main()
