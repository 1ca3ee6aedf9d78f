"""Are the latents whose relaxed decodes RDKit rejects concentrated in some components of the learned prior?
If they were, down-weighting those components would raise validity without rejecting draws.

    python benchmarks/prior_validity.py [--model DIR] [-n 20000]

Draws n latents from the model's learned prior (a Gaussian mixture), noting each draw's component, decodes them
greedily under relaxed SELFIES rules and counts RDKit's rejections per component: the spread of the rejection
rate over components, the share of all rejections that the worst 10/20/30% of components (by rate) hold
against their share of the prior's weight, and how well the rates of two halves of the draws agree (their
correlation: near 1 means the per-component rate is a property of the component, near 0 that it is noise).
Writes benchmarks/results/prior_validity.json and .md.
"""
import argparse

import numpy as np
import torch
from provenance import markdown_line, record, save


def per_component(comp: np.ndarray, rejected: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(comp, weights=rejected, minlength=k) / np.maximum(np.bincount(comp, minlength=k), 1)


def main():
    from molvae.api import MolVAE
    from molvae.model.tokens import smiles_of

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="moses")
    ap.add_argument("-n", type=int, default=20000)
    args = ap.parse_args()
    vae = MolVAE.load(args.model)
    prior, gen = vae.prior, torch.Generator().manual_seed(1)
    k = prior.components
    z, comp = prior.sample_with_components(args.n, gen)
    selfies, _ = vae.decode_selfies(z, greedy=True)
    rejected = np.array([s is None for s in smiles_of(selfies, relaxed=True)], dtype=float)
    comp = comp.numpy()
    counts, rate = np.bincount(comp, minlength=k), per_component(comp, rejected, k)
    seen = counts >= 20
    worst, weight = np.argsort(-rate), prior.weights.numpy()
    half = np.arange(args.n) < args.n // 2
    halves = [per_component(comp[h], rejected[h], k)[seen] for h in (half, ~half)]
    res = {"model": args.model, "n": args.n, "components": k, "rejected": float(rejected.mean()),
           "components_with_20_draws": int(seen.sum()),
           "rate_quantiles": dict(zip(["0", "10", "25", "50", "75", "90", "100"],
                                      np.quantile(rate[seen], [0, .1, .25, .5, .75, .9, 1]).round(3).tolist())),
           "worst": [{"fraction": f, "weight": float(weight[worst[: int(k * f)]].sum()),
                      "share_of_rejections": float(rejected[np.isin(comp, worst[: int(k * f)])].sum() / rejected.sum())}
                     for f in (0.1, 0.2, 0.3)],
           "split_half_correlation": float(np.corrcoef(*halves)[0, 1]),
           **record({args.model: vae})}
    save("prior_validity", res, markdown(res))


def markdown(res: dict) -> str:
    q = res["rate_quantiles"]
    lines = [f"# Rejected relaxed decodes per component of the learned prior ({res['model']}, {res['n']:,} draws)", "",
             f"Rejected overall: {res['rejected']:.3f}. Rate per component ({res['components_with_20_draws']} of"
             f" {res['components']} components with at least 20 draws): min {q['0']}, 10% {q['10']}, 25% {q['25']},"
             f" median {q['50']}, 75% {q['75']}, 90% {q['90']}, max {q['100']}. Split-half correlation of the"
             f" rates: {res['split_half_correlation']:.2f}.", "",
             "| worst components (by rate) | their prior weight | their share of the rejections |", "|---|---|---|"]
    lines += [f"| {w['fraction']:.0%} | {w['weight']:.3f} | {w['share_of_rejections']:.3f} |" for w in res["worst"]]
    return "\n".join(lines + ["", markdown_line(res)]) + "\n"


if __name__ == "__main__":
    main()
