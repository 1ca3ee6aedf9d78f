"""Where a model's prior samples go wrong: greedy strict decodes of latents taken at and between the encoded
training molecules, and from smooth densities fitted to them, each scored by FCD against the validation reference
(benchmarks/validation.py), novelty against the model's training set and uniqueness.

    python benchmarks/latent_gaps.py --model DIR --data data/zinc_moses_100k_neutral.csv.gz --label broad_run7_avg

Rows (n latents each, from the first --fit training-file rows; the reference is the 30,000 rows after them):
- the training molecules themselves (no model: the FCD floor of n molecules against this reference);
- mu decoded; a posterior draw mu + k sigma eps (k = 1, 2); the midpoint of two random molecules' mu;
- N(0, I); a RealNVP flow (Dinh et al., ICLR 2017; affine couplings, 8 layers) fitted by maximum likelihood to
  posterior draws of the fit molecules, sampled at temperature 1 and 0.8. The flow is this experiment's, not a
  molvae prior: it asks whether a density sharper than the shipped Gaussian mixture (benchmarks/prior_choice.py)
  closes the gap.
If posterior draws read near the floor while the midpoints and every smooth density read far above it, the decoder
is good only close to encoded molecules, and no prior fitted to the aggregate posterior can fix that.
"""
import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import markdown_line, record, save  # noqa: E402
from validation import ROWS, reference  # noqa: E402

from molvae import MolVAE, metrics  # noqa: E402
from molvae.io import tables  # noqa: E402
from molvae.model.checkpoint import load_training_set  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


class Coupling(nn.Module):
    """x -> x * exp(s(x_a)) + t(x_a) on the dimensions outside the mask; s bounded by 2 tanh."""

    def __init__(self, mask: torch.Tensor, hidden: int):
        super().__init__()
        d = len(mask)
        self.register_buffer("mask", mask)
        self.net = nn.Sequential(nn.Linear(d, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, 2 * d))
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def st(self, x):
        s, t = self.net(x * self.mask).chunk(2, -1)
        return 2 * torch.tanh(s) * (1 - self.mask), t * (1 - self.mask)

    def forward(self, x):
        s, t = self.st(x)
        return x * torch.exp(s) + t, s.sum(-1)

    def inverse(self, y):
        s, t = self.st(y)
        return (y - t) * torch.exp(-s)


class Flow(nn.Module):
    """Standardize, then couplings over alternating random halves of the dimensions; base N(0, I)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, layers: int = 8, hidden: int = 256, seed: int = 0):
        super().__init__()
        g, masks = torch.Generator().manual_seed(seed), []
        for i in range(layers):
            m = torch.zeros(len(mean))
            m[torch.randperm(len(mean), generator=g)[: len(mean) // 2]] = 1
            masks.append(m if i % 2 == 0 else 1 - masks[-1])
        self.layers = nn.ModuleList(Coupling(m, hidden) for m in masks)
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def log_prob(self, z):
        x, logdet = (z - self.mean) / self.std, 0.0
        for c in self.layers:
            x, ld = c(x)
            logdet = logdet + ld
        return -0.5 * (x ** 2).sum(-1) - 0.5 * x.shape[1] * math.log(2 * math.pi) + logdet - self.std.log().sum()

    @torch.no_grad()
    def sample(self, n: int, temperature: float, gen: torch.Generator):
        x = torch.randn(n, len(self.mean), generator=gen) * temperature
        for c in reversed(self.layers):
            x = c.inverse(x)
        return x * self.std + self.mean


def fit_flow(mu: np.ndarray, sd: np.ndarray, epochs: int, log) -> Flow:
    """Maximum likelihood on fresh posterior draws each epoch (Adam 1e-3, cosine to 0, batch 1024)."""
    mu_t, sd_t = torch.tensor(mu), torch.tensor(sd)
    std = torch.sqrt(mu_t.var(0) + (sd_t ** 2).mean(0))
    flow = Flow(mu_t.mean(0), std)
    steps = epochs * (len(mu) // 1024)
    opt = torch.optim.Adam(flow.parameters(), 1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    g = torch.Generator().manual_seed(0)
    for ep in range(epochs):
        order = torch.randperm(len(mu), generator=g)
        for b in range(0, len(mu) - 1023, 1024):
            j = order[b : b + 1024]
            loss = -flow.log_prob(mu_t[j] + sd_t[j] * torch.randn(len(j), mu.shape[1], generator=g)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        log(f"flow epoch {ep + 1}: mean NLL {loss.item():.2f} nats")
    return flow


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="moses")
    ap.add_argument("--data", default=str(ROOT / "data" / "moses_train_300k.csv.gz"))
    ap.add_argument("--label", default=None, help="results file latent_gaps_LABEL (default: the model's name)")
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--fit", type=int, default=100_000, help="training-file rows encoded (the flow's data)")
    ap.add_argument("--flow-epochs", type=int, default=15)
    a = ap.parse_args()
    t0 = time.time()

    def log(msg):
        print(f"[{time.time() - t0:.0f}s] {msg}", flush=True)
    ref = reference("validation", Path(a.data), skip=a.fit)
    vae = MolVAE.load(a.model)
    train = load_training_set(vae.path)
    fit = tables.read_smiles(a.data)[: a.fit]
    mu, lv = vae.encode(fit, return_logvar=True)
    ok = np.isfinite(mu).all(1)
    mu, sd = mu[ok], np.exp(0.5 * lv[ok])
    log(f"encoded {len(mu)} of {len(fit)}")
    rng, gen = np.random.default_rng(0), torch.Generator().manual_seed(1)
    pick = rng.choice(len(mu), a.n, replace=False)
    rows = []

    def row(name, smiles):
        rows.append({"latents": name, **metrics.sample_scores(smiles, train, ref)})
        log(rows[-1])

    def decoded(z):
        return vae.decode(np.asarray(z, dtype=np.float32))
    row("training molecules themselves (no model)", [fit[i] for i in np.flatnonzero(ok)[pick]])
    row("mu", decoded(mu[pick]))
    for k in (1, 2):
        row(f"mu + {k} sigma eps (posterior draw)", decoded(mu[pick] + k * sd[pick] * rng.standard_normal(mu[pick].shape)))
    row("midpoint of two molecules' mu", decoded(0.5 * mu[pick] + 0.5 * mu[rng.permutation(pick)]))
    row("N(0, I)", decoded(torch.randn(a.n, vae.latent_dim, generator=gen)))
    flow = fit_flow(mu, sd, a.flow_epochs, log)
    for temp in (1.0, 0.8):
        row(f"RealNVP flow on posterior draws, temperature {temp}", decoded(flow.sample(a.n, temp, gen)))
    res = {"model": a.model, "data": a.data.replace(str(ROOT) + "/", ""), "n": a.n, "fit_molecules": int(len(mu)),
           "mean_sigma": round(float(sd.mean()), 4), "rows": rows, **record({a.model: vae})}
    lines = [f"# Where prior samples go wrong ({a.label or Path(a.model).name}: {a.n:,} greedy strict decodes a row,"
             f" FCD against {ROWS:,} training-file molecules no fit saw)", "",
             "| latents | FCD | novelty | unique |", "|---|---|---|---|"]
    lines += [f"| {r['latents']} | {r['fcd']} | {r['novelty']} | {r['unique']} |" for r in rows]
    lines += ["", markdown_line(res), ""]
    save(f"latent_gaps_{a.label or Path(a.model).name}", res, "\n".join(lines))


if __name__ == "__main__":
    main()
