"""Quality of a model against the core targets (issue 2), in one run:

- 10,000 prior samples: RDKit validity, uniqueness, novelty vs MOSES train, mean heavy atoms, share with an
  aromatic ring, FCD vs the MOSES test split;
- exact reconstruction (greedy decode of mu, canonical SMILES match) of 300 MOSES scaffold-test molecules;
- active latent units (Burda et al. 2016) over 2,000 MOSES test molecules.

    python benchmarks/core_quality.py [--model DIR] [--temperature T] [--latent-scale S] [-n 10000]

Novelty uses data/moses_train_full.csv.gz when present (python data/make_subsets.py WHEEL --full), else the
bundled 300k subset, and says which. MOSES SMILES are RDKit-canonical already, so they are compared as strings.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from molvae import data, metrics
from molvae.api import MolVAE
from molvae.model import active_units

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("-n", type=int, default=10_000)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--latent-scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--recon", type=int, default=300)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "core_quality.json"))
    args = ap.parse_args()

    vae = MolVAE.load(args.model)
    res = {"model": str(vae.path), "n": args.n, "temperature": args.temperature, "latent_scale": args.latent_scale}
    t = time.time()
    df = vae.sample(args.n, temperature=args.temperature, latent_scale=args.latent_scale, seed=args.seed,
                    keep_invalid=True)
    res["sample_seconds"] = round(time.time() - t, 1)
    gen = df.loc[df["valid"], "smiles"].tolist()
    res["validity"] = len(gen) / args.n
    res["uniqueness"] = metrics.unique_at(gen, len(gen))
    full = ROOT / "data" / "moses_train_full.csv.gz"
    train_file = full if full.exists() else ROOT / "data" / "moses_train_300k.csv.gz"
    res["novelty"] = metrics.novelty(gen, set(data.read_smiles(train_file)))
    res["novelty_vs"] = train_file.name
    res["heavy_atoms_mean"], res["aromatic_share"] = metrics.heavy_atoms_and_aromatic_share(gen)
    t = time.time()
    res["fcd_test"] = metrics.fcd(gen, "moses_test")
    res["fcd_seconds"] = round(time.time() - t, 1)

    rng = np.random.default_rng(0)
    scaf = data.read_smiles(ROOT / "data" / "moses_test_scaffolds.csv.gz")
    pick = [scaf[i] for i in rng.choice(len(scaf), args.recon, replace=False)]
    rec = vae.reconstruct(pick)
    res["recon_scaffold_test"] = float(rec["recon_exact"].mean())
    res["recon_encodable"] = float((rec["error"] == "").mean())

    test = data.read_smiles(ROOT / "data" / "moses_test.csv.gz")
    mu = vae.encode([test[i] for i in rng.choice(len(test), 2000, replace=False)])
    mu = mu[~np.isnan(mu).any(1)]
    import torch

    res["active_units"] = active_units(torch.from_numpy(mu))
    res["latent_dim"] = vae.latent_dim
    res = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()}
    print(json.dumps(res, indent=2))
    Path(args.out).write_text(json.dumps(res, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
