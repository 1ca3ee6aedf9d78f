"""Check molvae's metrics against MOSES's published "Train" row: 10,000 random MOSES *training* molecules,
evaluated against the MOSES test split with the whole train split as the novelty reference.

    python data/make_subsets.py WHEEL --full      # data/moses_train_full.csv.gz, see data/README.md
    python benchmarks/moses_train_row.py

Published (MOSES README, Train row): IntDiv 0.857, IntDiv2 0.851, SNN 0.642, Frag 1.0, Scaf 0.991, Filters 1.0,
novelty 0, validity and uniqueness 1.0, FCD 0.008. MOSES's Train row is the whole train split against the test
split; FCD and Scaf of a 10,000-molecule sample read higher and lower than that (FCD's bias grows as the sample
shrinks), so those two rows do not compare one to one. `--table-only` rewrites the .md from the .json.
Writes benchmarks/results/moses_train_row.json (every scalar metric, including heavy atoms and the share with an
aromatic ring of the 10,000 train molecules, with the provenance fields of benchmarks/provenance.py; no model is
used) and, from it, moses_train_row.md.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

from molvae import metrics
from molvae.io import tables
from provenance import markdown_line, record

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED = {"valid": 1.0, "unique@10000": 1.0, "novelty": 0.0, "intdiv1": 0.8567, "intdiv2": 0.8508,
             "snn": 0.6419, "frag": 1.0, "scaf": 0.9907, "filters": 1.0, "fcd": 0.008}  # MOSES README, Train row
SAMPLE_SIZE_BOUND = {"fcd", "scaf"}  # the published value is of the whole train split, not of a 10,000 sample


def markdown(res: dict) -> str:
    lines = ["| metric | molvae (10,000 train molecules) | MOSES Train row (published) |", "|---|---|---|"]
    lines += [f"| {k} | {res[k]:.4f} | {v}{' (whole train split)' if k in SAMPLE_SIZE_BOUND else ''} |"
              for k, v in PUBLISHED.items()]
    lines.append(f"| scaf, 40,000 train molecules | {res['scaf_40000']:.4f} | {PUBLISHED['scaf']} (whole train split) |")
    lines += ["", f"Heavy atoms: {res['heavy_atoms']:.1f}. Share with an aromatic ring: {res['aromatic_share']:.3f}.",
              "", markdown_line(res)]
    return "\n".join(lines) + "\n"


out = ROOT / "benchmarks" / "results"
if "--table-only" in sys.argv:
    text = markdown(json.loads((out / "moses_train_row.json").read_text()))
    (out / "moses_train_row.md").write_text(text)
    sys.exit(print(text, end=""))

full = ROOT / "data" / "moses_train_full.csv.gz"
if not full.exists():
    sys.exit(f"needs {full}: python data/make_subsets.py WHEEL --full (see data/README.md)")
prov = record({})  # no model
t0 = time.time()
train = tables.read_smiles(full)
rng = np.random.default_rng(0)
sample = [train[i] for i in rng.choice(len(train), 10_000, replace=False)]
res = metrics.evaluate(sample, train=set(train), scaffold_reference=None,
                       progress=lambda m: print(f"  {m}", file=sys.stderr, flush=True))
res.pop("_values"), res.pop("_ref_quantiles")
# Scaf is a cosine between scaffold-count vectors, so it grows with the sample: show it at 40,000 as well
from molvae import chem  # noqa: E402

big = [train[i] for i in rng.choice(len(train), 40_000, replace=False)]
res["scaf_40000"] = float(metrics.cos_similarity(metrics.Reference.named("moses_test").scaf,
                                                 metrics.scaffolds([chem.to_mol(s) for s in big])))
res = {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in res.items()
       if isinstance(v, (int, float, np.integer, np.floating, str))}
res.update(seconds=round(time.time() - t0, 1), moses_published=PUBLISHED, **prov)
out.mkdir(parents=True, exist_ok=True)
(out / "moses_train_row.json").write_text(json.dumps(res, indent=2, default=float) + "\n")
(out / "moses_train_row.md").write_text(markdown(res))
print(markdown(res), end="")
