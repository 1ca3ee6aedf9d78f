"""The bundled (or any) model's scorecard, in one run:

- N prior samples (MOSES protocol: 30,000), evaluated with `molvae.metrics.evaluate` against the MOSES test and
  scaffold-test splits: validity, uniqueness, novelty, FCD, SNN, Frag, Scaf, IntDiv, Filters, plus mean heavy
  atoms and the share of molecules with an aromatic ring (the SELFIES realism check);
- exact reconstruction (greedy decode of mu, canonical SMILES match) of 300 random MOSES scaffold-test
  molecules, which no model trained on MOSES train has seen;
- active latent units (Burda et al. 2016) over 2,000 MOSES test molecules, and the latent dimensions whose mean
  KL there is above twice the free-bits floor (0.1 nat, the bundled models' setting).

Writes benchmarks/results/<name>.json (with the provenance fields of benchmarks/provenance.py: weights sha256,
commit, cores, date) and, from that JSON, a markdown table with the published MOSES rows beside ours
(Polykovskiy et al. 2020, github.com/molecularsets/moses README: mean over 3 runs, 30,000 samples each).

    python benchmarks/model_quality.py -n 30000 [--model DIR] [--temperature T] [--latent-scale S]
    python benchmarks/model_quality.py --name quality_10000 --table-only    # rewrite the .md from the .json

Novelty is against the full MOSES train split when data/moses_train_full.csv.gz is present (see
data/README.md), else against the model's own training set; the table says which.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from provenance import markdown_line, record, save

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ["Valid", "Unique@10k", "FCD/Test", "FCD/TestSF", "SNN/Test", "Frag/Test", "Scaf/Test", "IntDiv",
           "Filters", "Novelty"]
MOSES = {  # published means (MOSES README table)
    "Train": [1.0, 1.0, 0.008, 0.4755, 0.6419, 1.0, 0.9907, 0.8567, 1.0, 0.0],  # the train set is not novel
    "CharRNN": [0.9748, 0.9994, 0.0732, 0.5204, 0.6015, 0.9998, 0.9242, 0.8562, 0.9943, 0.8419],
    "VAE": [0.9767, 0.9984, 0.099, 0.567, 0.6257, 0.9994, 0.9386, 0.8558, 0.997, 0.6949],
    "JTN-VAE": [1.0, 0.9996, 0.3954, 0.9382, 0.5477, 0.9965, 0.8964, 0.8551, 0.976, 0.9143],
    "AAE": [0.9368, 0.9973, 0.5555, 1.0572, 0.6081, 0.991, 0.9022, 0.8557, 0.996, 0.7931],
    "LatentGAN": [0.8966, 0.9968, 0.2968, 0.8281, 0.5371, 0.9986, 0.8867, 0.8565, 0.9735, 0.9498],
}


FREE_BITS = 0.1  # nats per latent dimension, as the bundled models were trained

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="moses")
    ap.add_argument("-n", type=int, default=30_000)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--prior", default="auto", choices=["auto", "learned", "standard"],
                    help="latent prior (auto: the model's learned prior when it has one, as molvae sample)")
    ap.add_argument("--decoding", default="default", choices=["default", "greedy", "sampled"],
                    help="default: what molvae sample does (greedy from a learned prior, sampled from N(0, I))")
    ap.add_argument("--latent-scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    strict = ap.add_mutually_exclusive_group()  # default: what molvae sample does (relaxed greedy from a learned prior)
    strict.add_argument("--relaxed", action="store_true", default=None, help="relaxed SELFIES constraints")
    strict.add_argument("--strict", dest="relaxed", action="store_false", default=None,
                        help="SELFIES's own constraints")
    ap.add_argument("--rerank", type=int, default=1, help="likelihood re-ranking factor")
    ap.add_argument("--refine", type=int, default=0, help="autoencoder refinement cycles (MolVAE.refine)")
    ap.add_argument("--rank", choices=["likelihood", "critic"], default="likelihood",
                    help="what re-ranking keeps (critic: the model's realism critic, after refining every draw)")
    ap.add_argument("--recon", type=int, default=300)
    ap.add_argument("--name", default=None, help="results file name (default: quality_<n>)")
    ap.add_argument("--int8", action="store_true", help="dynamic int8 quantization (molvae sample --int8)")
    ap.add_argument("--table-only", action="store_true", help="rewrite <name>.md from <name>.json")
    ap.add_argument("--zinc", action="store_true",
                    help="also FCD and SNN against the held-out ZINC 250k split (data/zinc250k_test.csv.gz)")
    args = ap.parse_args()
    log = lambda m: print(f"  {m}", file=sys.stderr, flush=True)  # noqa: E731
    name = args.name or f"quality_{args.n}"
    out = ROOT / "benchmarks" / "results"
    if args.table_only:
        text = markdown(json.loads((out / f"{name}.json").read_text()))
        (out / f"{name}.md").write_text(text)
        print(text, end="")
        return

    from molvae import chem, metrics
    from molvae.io import tables
    from molvae.api import MolVAE
    from molvae.model.checkpoint import load_training_set
    from molvae.model import active_units, dims_above_floor, kl_per_dim
    import torch

    vae = MolVAE.load(args.model, int8=args.int8)
    prov = record({args.model: vae})
    t = time.time()
    greedy = {"default": None, "greedy": True, "sampled": False}[args.decoding]
    df = vae.sample(args.n, temperature=args.temperature, latent_scale=args.latent_scale, seed=args.seed,
                    keep_invalid=args.rerank == 1, relaxed=args.relaxed, rerank=args.rerank,
                    prior=args.prior, greedy=greedy, refine=args.refine, rank=args.rank)
    prior_used = "learned" if vae.uses_learned_prior(args.prior) else "standard"
    decoding = args.decoding if greedy is not None else ("greedy" if prior_used == "learned" else "sampled")
    sample_s = time.time() - t
    log(f"sampled {args.n} in {sample_s:.0f}s")
    full = ROOT / "data" / "moses_train_full.csv.gz"
    if full.exists():
        train, novelty_vs = set(tables.read_smiles(full)), "MOSES train (1.58M)"
    else:
        train, novelty_vs = load_training_set(vae.path), "the model's training set"
    res = metrics.evaluate(df["smiles"].where(df["valid"], "").tolist(), train=train, progress=log)
    res.pop("_values"), res.pop("_ref_quantiles")

    if args.zinc:
        gen = [s for s in df["smiles"].where(df["valid"], "").tolist() if s]
        ref = metrics.Reference.from_smiles(tables.read_smiles(ROOT / "data" / "zinc250k_test.csv.gz"),
                                            name="zinc250k_test", progress=log)
        mu, sigma = metrics.fcd_stats(gen)
        res["fcd_zinc"] = metrics.frechet_distance(mu, sigma, ref.fcd_mu, ref.fcd_sigma)
        res["snn_zinc"] = metrics.snn(metrics.morgan_fps([chem.to_mol(s) for s in gen]), ref.fingerprints())
    rng = np.random.default_rng(0)
    scaf = tables.read_smiles(ROOT / "data" / "moses_test_scaffolds.csv.gz")
    rec = vae.reconstruct([scaf[i] for i in rng.choice(len(scaf), args.recon, replace=False)])
    res["recon_scaffold_test"] = float(rec["recon_exact"].mean())
    test = tables.read_smiles(ROOT / "data" / "moses_test.csv.gz")
    mu, logvar = vae.encode([test[i] for i in rng.choice(len(test), 2000, replace=False)], return_logvar=True)
    ok = ~np.isnan(mu).any(1)
    mu, logvar = torch.from_numpy(mu[ok]), torch.from_numpy(logvar[ok])
    res["active_units"] = active_units(mu)
    res["kl_above_floor"] = dims_above_floor(kl_per_dim(mu, logvar).mean(0), FREE_BITS)
    res.update(prior=prior_used, decoding=decoding,
               prior_components=vae.prior.components if prior_used == "learned" else None)
    res.update(latent_dim=vae.latent_dim, temperature=args.temperature, latent_scale=args.latent_scale,
               relaxed=df.attrs["relaxed"], rerank=args.rerank, refine=args.refine, rank=args.rank, int8=args.int8, draws=df.attrs["drawn"], seed=args.seed, sample_seconds=round(sample_s, 1), novelty_vs=novelty_vs, model=str(vae.path))
    res = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.items()}
    res.update(prov)
    save(name, res, markdown(res))


def markdown(res: dict) -> str:
    """The markdown table of one results JSON: published MOSES rows, ours, and the JSON's other numbers."""
    ours = [res["valid"], res.get("unique@10000"), res["fcd"], res["fcd_sf"], res["snn"], res["frag"], res["scaf"],
            res["intdiv1"], res["filters"], res["novelty"]]
    fmt = lambda v: "-" if v is None else f"{v:.4g}"  # noqa: E731
    lines = ["| Model | " + " | ".join(COLUMNS) + " | Recon (scaffold test) | Active units |",
             "|---" * (len(COLUMNS) + 3) + "|"]
    for k, row in MOSES.items():
        lines.append(f"| {k} (MOSES) | " + " | ".join(fmt(v) for v in row) + " | - | - |")
    prior = ("learned prior" if res.get("prior") == "learned" else "N(0, I)")
    decoding = "greedy" if res.get("decoding") == "greedy" else f"T={res['temperature']}"
    how = (f"{prior}, {decoding}" + (f", latent scale {res['latent_scale']}" if res["latent_scale"] != 1 else "")
           + (", int8" if res.get("int8") else "") + (", relaxed" if res["relaxed"] else "")
           + (f", rerank {res['rerank']}" if res["rerank"] > 1 else "")
           + (f", refine {res['refine']}" if res.get("refine") else "")
           + (", ranked by the realism critic" if res.get("rank") == "critic" else ""))
    lines.append(f"| **molvae** ({how}, n={res['n']:,}) | " + " | ".join(fmt(v) for v in ours)
                 + f" | {res['recon_scaffold_test']:.3f} | {res['active_units']}/{res['latent_dim']}"
                 + (f" ({res['kl_above_floor']} with KL > 2x free bits)" if "kl_above_floor" in res else "") + " |")
    if res.get("fcd_zinc") is not None:
        lines += ["", f"Against the held-out ZINC 250k split (data/zinc250k_test.csv.gz, 23,802 molecules):"
                  f" FCD {res['fcd_zinc']:.3f}, SNN {res['snn_zinc']:.3f}."]
    lines += ["", f"Model: {res['model']}. Novelty against: {res['novelty_vs']}. Draws: {res['draws']:,};"
              f" molecules evaluated: {res['n']:,}, of them valid (RDKit): {res['n_valid']:,}. Heavy atoms: {res['heavy_atoms']:.1f}. Share with an aromatic ring:"
              f" {res['aromatic_share']:.3f}. Sampling seconds: {res['sample_seconds']:.0f}.",
              "", markdown_line(res)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
