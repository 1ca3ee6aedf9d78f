"""How many latent dimensions a model uses: active units beside the dimensions whose KL is clearly above the
free-bits floor, on held-out molecules.

    python benchmarks/latent_use.py [--models moses,fast,fast:int8] [-n 2000] [--free-bits 0.1]

Encodes the first n molecules of data/moses_test.csv.gz that the model can encode and reports, per model:
active units (Burda et al. 2016: Var over molecules of mu_d above 0.01), the dimensions whose mean
KL(q(z_d | x) || N(0, 1)) is above twice the free-bits floor (both bundled models were trained with free bits
0.1 nat per dimension: training/*/config.json), the total KL and the per-dimension KL sorted. Writes
benchmarks/results/latent_use.json and .md. NAME:int8 loads a model with int8 dynamic quantization.
"""
import argparse
import gzip
from pathlib import Path

import numpy as np
import torch
from provenance import markdown_line, record, save

ROOT = Path(__file__).resolve().parent.parent


def moses_test(n: int) -> list[str]:
    with gzip.open(ROOT / "data" / "moses_test.csv.gz", "rt") as fh:
        return [line.strip() for line in fh][1 : n + 1]


def latent_use(vae, smiles: list[str], free_bits: float) -> dict:
    from molvae.model import active_units, dims_above_floor, kl_per_dim

    mu, logvar = vae.encode(smiles, return_logvar=True)
    ok = ~np.isnan(mu).any(1)
    mu, logvar = torch.from_numpy(mu[ok]).double(), torch.from_numpy(logvar[ok]).double()
    kl = kl_per_dim(mu, logvar).mean(0)
    return {"molecules": int(ok.sum()), "latent_dim": int(mu.shape[1]), "active_units": active_units(mu),
            "kl_above_floor": dims_above_floor(kl, free_bits), "kl_total": round(float(kl.sum()), 3),
            "kl_per_dim_sorted": [round(v, 4) for v in sorted(kl.tolist(), reverse=True)]}


def main():
    from molvae.api import MolVAE

    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="moses,fast,fast:int8")
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--free-bits", type=float, default=0.1)
    args = ap.parse_args()
    smiles = moses_test(args.n)
    vaes = {name: MolVAE.load(name.split(":")[0], int8=name.endswith(":int8")) for name in args.models.split(",")}
    res = {"data": f"data/moses_test.csv.gz, first {args.n} molecules", "free_bits": args.free_bits,
           "threshold": 2 * args.free_bits, "models": {k: latent_use(v, smiles, args.free_bits) for k, v in vaes.items()},
           **record(vaes)}
    save("latent_use", res, markdown(res))


def markdown(res: dict) -> str:
    lines = [f"# Latent dimensions in use ({res['data']})", "",
             f"Active units: Var over molecules of mu_d > 0.01. Above the floor: mean KL of the dimension >"
             f" {res['threshold']:g} nat, twice the free-bits floor of {res['free_bits']:g}.", "",
             "| model | molecules | active units | KL above 2x floor | total KL (nats) | largest five KL per dimension |",
             "|---|---|---|---|---|---|"]
    for name, m in res["models"].items():
        lines.append(f"| {name} | {m['molecules']} | {m['active_units']}/{m['latent_dim']} |"
                     f" {m['kl_above_floor']}/{m['latent_dim']} | {m['kl_total']} |"
                     f" {', '.join(str(v) for v in m['kl_per_dim_sorted'][:5])} |")
    return "\n".join(lines + ["", markdown_line(res), ""])


if __name__ == "__main__":
    main()
