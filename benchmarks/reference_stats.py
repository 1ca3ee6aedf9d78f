"""Compute the FCD reference statistics that ship in molvae/reference (ChemNet over a whole MOSES test split).

    python benchmarks/reference_stats.py data/moses_test.csv.gz moses_test
    python benchmarks/reference_stats.py data/moses_test_scaffolds.csv.gz moses_test_scaffolds
"""
import sys
import time

from molvae import data, metrics

src, name = sys.argv[1], sys.argv[2]
smiles = data.read_smiles(src)
t = time.time()
mu, sigma = metrics.fcd_stats(smiles)
metrics.save_stats(metrics.REFERENCE_DIR / f"fcd_{name}.npz", mu, sigma, len(smiles))
print(f"{name}: {len(smiles)} molecules, {time.time() - t:.0f}s")
