"""What FCD the training molecules themselves read: the floor under any model's sample FCD, against the validation
reference that choices are made on (benchmarks/validation.py) and against the held-out ZINC 250k split (a scaffold
split, so its molecules are further from the training set than the validation rows are).

    python benchmarks/fcd_floor.py --data data/zinc_moses_100k_neutral_train.csv.gz --skip 50000 --label broad

N training molecules (rows after the validation reference's, drawn with a fixed seed; no model) are scored at the
sample sizes the benchmarks use (5,000 in prior_choice.py, 10,000 in model_quality.py): FCD reads higher on fewer
molecules, so a sample's figure compares with the floor at its own size.
Writes benchmarks/results/fcd_floor_<label>.json and .md.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import markdown_line, record  # noqa: E402
from validation import ROWS, validation_smiles  # noqa: E402

from molvae import metrics  # noqa: E402
from molvae.io import tables  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TEST = ROOT / "data" / "zinc250k_test.csv.gz"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "zinc_moses_100k_neutral_train.csv.gz"))
    ap.add_argument("--skip", type=int, default=50_000, help="the rows a prior fit used (the reference follows them)")
    ap.add_argument("--sizes", default="5000,10000")
    ap.add_argument("--pool", type=int, default=100_000, help="rows after the reference the molecules are drawn from")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--label", default="broad")
    a = ap.parse_args()
    refs = {"validation": metrics.Reference.from_smiles(validation_smiles(Path(a.data), a.skip)),
            "zinc250k_test": metrics.Reference.from_smiles(tables.read_smiles(TEST), name="zinc250k_test")}
    pool = tables.read_smiles(a.data)[a.skip + ROWS: a.skip + ROWS + a.pool]
    rng = np.random.default_rng(a.seed)
    rows = []
    for n in map(int, a.sizes.split(",")):
        mu, sigma = metrics.fcd_stats([pool[i] for i in rng.choice(len(pool), n, replace=False)])
        for name, ref in refs.items():
            fcd = metrics.frechet_distance(mu, sigma, ref.fcd_mu, ref.fcd_sigma)
            rows.append({"molecules": n, "reference": name, "fcd": round(float(fcd), 3)})
            print(rows[-1], flush=True)
    res = {"data": a.data, "skip": a.skip, "pool": len(pool), "seed": a.seed, "rows": rows, **record({})}
    out = ROOT / "benchmarks" / "results" / f"fcd_floor_{a.label}"
    out.with_suffix(".json").write_text(json.dumps(res, indent=1) + "\n")
    lines = [f"# FCD of training molecules themselves ({a.data}, rows after the validation reference; no model)", "",
             "| molecules | reference | FCD |", "|---|---|---|"]
    lines += [f"| {r['molecules']:,} | {r['reference']} | {r['fcd']:.3f} |" for r in rows]
    lines += ["", f"Validation: {ROWS:,} rows of the file after the first {a.skip:,}; zinc250k_test: the held-out"
              f" ZINC 250k split ({TEST.name}, a scaffold split).", "", markdown_line(res)]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
