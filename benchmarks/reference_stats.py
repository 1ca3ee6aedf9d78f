"""Compute the reference statistics that ship in molvae/reference/NAME/ (FCD mean/covariance from ChemNet,
BRICS fragment and scaffold counts, property quantiles) for a whole MOSES test split.

    python benchmarks/reference_stats.py data/moses_test.csv.gz moses_test
    python benchmarks/reference_stats.py data/moses_test_scaffolds.csv.gz moses_test_scaffolds
"""
import sys
import time

from molvae import data, metrics

import numpy as np

src, name = sys.argv[1], sys.argv[2]
t = time.time()
old = metrics.REFERENCE_DIR / name / "fcd.npz"
fcd = None
if old.exists() and "--fresh" not in sys.argv:  # ChemNet over 176k molecules takes ~15 minutes here
    z = np.load(old, allow_pickle=False)
    fcd = (z["mu"].astype(np.float64), z["sigma"].astype(np.float64))
ref = metrics.Reference.compute(data.read_smiles(src), name, progress=print, fcd=fcd)
ref.save(metrics.REFERENCE_DIR / name)
print(f"{name}: {ref.n} molecules, {time.time() - t:.0f}s")
