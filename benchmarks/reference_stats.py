"""Compute the reference statistics that ship in molvae/reference/NAME/ (FCD mean/covariance from ChemNet,
BRICS fragment and scaffold counts, property quantiles, packed Morgan fingerprints for SNN) for a whole MOSES
test split.

    python benchmarks/reference_stats.py data/moses_test.csv.gz moses_test
    python benchmarks/reference_stats.py data/moses_test_scaffolds.csv.gz moses_test_scaffolds
    python benchmarks/reference_stats.py data/moses_test.csv.gz moses_test --fps-only   # add fingerprints only
"""
import sys
import time

import numpy as np

from molvae import chem, metrics
from molvae.io import tables

src, name = sys.argv[1], sys.argv[2]
t = time.time()
dest = metrics.REFERENCE_DIR / name
if "--fps-only" in sys.argv:  # the other statistics are kept as they are
    mols = [chem.to_mol(s) for s in metrics.canonical_valid(tables.read_smiles(src))]
    fps = metrics.morgan_fps(mols)
    np.savez_compressed(dest / "fps.npz", bits=np.packbits(fps, axis=1), n_bits=np.array(fps.shape[1]))
    print(f"{name}: fingerprints of {len(fps)} molecules, {time.time() - t:.0f}s")
    sys.exit(0)
old = dest / "fcd.npz"
fcd = None
if old.exists() and "--fresh" not in sys.argv:  # ChemNet over 176k molecules takes ~15 minutes here
    z = np.load(old, allow_pickle=False)
    fcd = (z["mu"].astype(np.float64), z["sigma"].astype(np.float64))
ref = metrics.Reference.compute(tables.read_smiles(src), name, progress=print, fcd=fcd)
ref.save(dest)
print(f"{name}: {ref.n} molecules, {time.time() - t:.0f}s")
