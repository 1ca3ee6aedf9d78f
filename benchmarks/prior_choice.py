"""Which learned prior to ship: draws from N(0, I), from Gaussian mixtures of K components fitted to the
training molecules' mu and (--exemplars K) from exemplar priors (one component per fit molecule, its posterior
widened: molvae.model.prior.GaussianMixture.exemplars), each decoded greedily (--reranks: re-ranked; --refines: then
refined by the autoencoder, MolVAE.refine; --ranks critic: re-ranked by the model's realism critic after refining every
draw, molvae.model.critic) and by sampling (T = 1), scored by
FCD against validation molecules (30,000 rows of the training file after those the fit encoded; `--reference moses_test` for the test
split, reported once), novelty against the model's training set, validity and uniqueness.

    python benchmarks/prior_choice.py --model moses -n 5000 --fit 100000 --components 1,100,400
    python benchmarks/prior_choice.py --model DIR --data data/zinc_moses_100k_neutral.csv.gz --components 400 \
        --fit 50000 --exemplars 20000 --scales 3.5,4,4.5 --reranks 1,4 --refines 0,2,4 --label broad

Rule (`choose`): among greedy decoding (what `molvae sample` does with a learned prior; with --reranks, re-ranked
too), the prior with the lowest validation FCD whose novelty is at least 0.9 (a prior that hands back training
molecules is not a generator).
Writes benchmarks/results/prior_choice_<model>.json and .md (prior_choice_<model>_moses_test with that reference). FCD on 5,000 samples reads higher than on 30,000:
compare within a table.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import markdown_line, record  # noqa: E402
from validation import REFERENCE_HELP, ROWS, reference  # noqa: E402

from molvae import MolVAE, metrics  # noqa: E402
from molvae.io import tables  # noqa: E402
from molvae.model.checkpoint import load_training_set  # noqa: E402
from molvae.model.prior import GaussianMixture  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def choose(rows: list[dict]) -> dict:
    """The rule in the module's docstring."""
    ok = [r for r in rows if r["decoding"].startswith("greedy") and r["novelty"] >= 0.9]
    return min(ok, key=lambda r: r["fcd"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="moses")
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--fit", type=int, default=100_000, help="training molecules encoded for the fit")
    ap.add_argument("--components", default="1,100,400", help="mixtures' sizes ('' for none)")
    ap.add_argument("--exemplars", type=int, default=0,
                    help="also exemplar priors of this many fit molecules' posteriors (0: none)")
    ap.add_argument("--scales", default="2,2.5,3", help="the exemplar priors' widths, in posterior sigmas")
    ap.add_argument("--reranks", default="1", help="greedy decoding re-ranking K draws a molecule (MolVAE.sample)")
    ap.add_argument("--refines", default="0", help="greedy samples refined C times (MolVAE.refine), e.g. 0,2,4")
    ap.add_argument("--ranks", default="likelihood",
                    help="what re-ranking keeps: likelihood (before refining), critic (the model's critic, after)")
    ap.add_argument("--standard", action=argparse.BooleanOptionalAction, default=True,
                    help="score N(0, I) too (default; --no-standard: only the fitted priors)")
    ap.add_argument("--data", default=str(ROOT / "data" / "moses_train_300k.csv.gz"))
    ap.add_argument("--reference", default="validation", help=REFERENCE_HELP)
    ap.add_argument("--label", default=None, help="results file name prior_choice_LABEL (default: the model's name)")
    args = ap.parse_args()
    ref = reference(args.reference, Path(args.data), skip=args.fit)
    vae = MolVAE.load(args.model)
    train = load_training_set(vae.path)
    t = time.time()
    smiles = tables.read_smiles(args.data)[: args.fit]
    mu, log_var = vae.encode(smiles, return_logvar=True)
    ok = np.isfinite(mu).all(1)
    mu, log_var = mu[ok], log_var[ok]
    rows = []
    print(f"encoded {len(mu)} molecules in {time.time() - t:.0f}s", flush=True)
    k_ex = min(args.exemplars, len(mu))
    priors = [("N(0, I)", 0, lambda: None)] if args.standard else []
    priors += [(f"mixture of {k}", k, lambda k=k: GaussianMixture.fit(mu, k, seed=0, log=print))
               for k in map(int, filter(None, args.components.split(",")))]
    priors += [(f"exemplars ({k_ex}), sigma x {sc}", k_ex,
                lambda sc=sc: GaussianMixture.exemplars_drawn(mu, log_var, k_ex, sc, seed=0))
               for sc in (map(float, args.scales.split(",")) if args.exemplars else [])]
    reranks = [int(r) for r in args.reranks.split(",")]
    ranks = args.ranks.split(",")
    refines = sorted(int(c) for c in args.refines.split(","))
    for name, k, build in priors:
        t = time.time()
        prior = build()
        fit_s = time.time() - t
        if prior is not None:
            vae._prior = prior
        for rerank in [r for r in reranks if r > 1] if "critic" in ranks else []:
            for cycles in refines:
                t = time.time()
                df = vae.sample(args.n, greedy=True, seed=1, prior="learned" if prior is not None else "standard",
                                relaxed=False, rerank=rerank, refine=cycles, rank="critic")
                row = {"prior": name, "components": k, "rerank": rerank, "refine": cycles, "rank": "critic",
                       "decoding": f"greedy, refine {cycles}, critic rerank {rerank}", "fit_seconds": round(fit_s, 1),
                       "sample_seconds": round(time.time() - t, 1), **metrics.sample_scores(df["smiles"].tolist(), train, ref)}
                print(row, flush=True)
                rows.append(row)
        for greedy, rerank in [(True, r) for r in reranks if "likelihood" in ranks] + [(False, 1)]:
            t = time.time()
            df = vae.sample(args.n, greedy=greedy, seed=1, prior="learned" if prior is not None else "standard",
                            relaxed=False, rerank=rerank, refine=0)  # the priors compared under SELFIES's own constraints
            smiles, done = df["smiles"].tolist(), 0
            for cycles in refines if greedy else [0]:
                smiles = vae.refine(smiles, cycles - done)["smiles"].tolist()  # refine(a + b) = refine(b) of refine(a)
                done = cycles
                row = {"prior": name, "components": k, "rerank": rerank, "refine": cycles,
                       "decoding": ("greedy" if greedy else "sampled, T = 1") + (f", rerank {rerank}" if rerank > 1 else "")
                       + (f", refine {cycles}" if cycles else ""),
                       "fit_seconds": round(fit_s, 1),
                       "sample_seconds": round(time.time() - t, 1), **metrics.sample_scores(smiles, train, ref)}
                print(row, flush=True)
                rows.append(row)
    chosen = choose(rows)
    res = {"model": args.model, "n": args.n, "chosen": chosen["prior"], "chosen_decoding": chosen["decoding"], "reference": args.reference, "fit_molecules": int(len(mu)), "fit_data": args.data.replace(str(ROOT) + "/", ""),
           "rows": rows, **record({args.model: vae})}
    out = ROOT / "benchmarks" / "results" / f"prior_choice_{args.label or Path(args.model).name}{'' if args.reference == 'validation' else '_' + args.reference}"
    out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    against = (f"{ROWS:,} training-file molecules no fit saw (validation)" if args.reference == "validation"
               else args.reference)
    lines = [f"# Learned prior choice ({args.model}, {args.n} samples each, FCD against {against})", "",
             "| z drawn from | decoding | FCD | novelty | valid | unique | fit (s) |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['prior']} | {r['decoding']} | {r['fcd']} | {r['novelty']} | {r['valid']} | {r['unique']} |"
              f" {r['fit_seconds']} |" for r in rows]
    lines += ["", f"Chosen (greedy, novelty >= 0.9, lowest FCD): {chosen['prior']}, {chosen['decoding']}.", "",
              markdown_line(res)]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
