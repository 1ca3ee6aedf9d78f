"""Build data/moses_train_labelled.csv.gz: the whole MOSES train split (1,584,663 SMILES) with property labels
for its first 1,000,000 rows and empty cells (missing labels, masked out of the head's loss) for the rest.

The labels are the RDKit values `molvae score --no-model` wrote for those rows (benchmarks/score_speed.py --big
1000000 --keep data/moses_train_1m_scored.parquet), so the GPU host only tokenizes. Usage:
    python training/gpu_fast/make_labelled.py [FULL.csv.gz] [SCORED.parquet] [OUT.csv.gz]
"""
import sys

import numpy as np
import pandas as pd

full_path, scored_path, out = (sys.argv[1:] + [None] * 3)[:3]
full = pd.read_csv(full_path or "data/moses_train_full.csv.gz")
decimals = {"qed": 3, "logp": 2, "sa": 2, "plogp": 2, "tpsa": 1, "mw": 2}
scored = pd.read_parquet(scored_path or "data/moses_train_1m_scored.parquet", columns=["SMILES", *decimals])
n = len(scored)
if not (full["SMILES"].iloc[:n].to_numpy() == scored["SMILES"].to_numpy()).all():
    sys.exit("the scored rows are not the first rows of the train split")
for name, d in decimals.items():
    col = np.full(len(full), np.nan)
    col[:n] = scored[name].round(d).to_numpy()
    full[name] = col
full.to_csv(out or "data/moses_train_labelled.csv.gz", index=False, float_format="%g")
print(f"{len(full)} rows, labels on the first {n}")
