"""``gradient``: gradient ascent in z on a surrogate of the objective that is refitted after every batch.

The surrogate is a small MLP (SiLU, 128 wide) fitted to the (z, score) pairs the run has gathered (the latent
that was decoded and the score of its decode; at most the ``n_fit`` best and most recent points, warm-started
from the previous fit). When the objective is one of the properties the model's head predicts (a head trained
with ``molvae train --properties``, as in Gomez-Bombarelli et al., ACS Cent. Sci. 4, 268, 2018), the head's
prediction is the surrogate's starting point, so the ascent has a gradient from the first batch, and the MLP
learns only the correction. From each of the ``n_starts`` best points, jittered by ``noise``, it takes ``steps``
normalized gradient steps of length ``step_size``, staying within the prior's typical radius sqrt(D) + 2 (and
within 3 of mu(start) in constrained mode); the points on the paths are decoded in order of predicted value
(2q at a time, only as many as needed, at most ``max_decode`` * q) and the first q new molecules go to the
oracle.

Step length and jitter adapt to the decoder: a greedy decoder maps a neighbourhood of each latent to one
molecule, so short paths from the best points decode mostly to molecules already scored. When under a quarter
of a batch's decodes are new, both grow by 1.5x (up to ``grow_max``); when over 60% are new, they shrink back
towards their base values.
"""
from __future__ import annotations

import math

import numpy as np

from .oracle import Search


def head_prior(vae, oracle):
    """The model's property head as a prior for the objective: a differentiable z -> predicted value (in the
    objective's units) when the head predicts the objective itself, or its terms (plogp_norm from logp, sa
    and plogp: the ring term is plogp - logp + sa), else None. An int8-quantized head has no gradient, so it
    is not used."""
    name = oracle.objective.name
    props = tuple(getattr(vae, "properties", ()) or ())
    if not ({"logp", "sa", "plogp"} if name == "plogp_norm" else {name}) <= set(props):
        return None
    model = vae.model
    from ..model.vae import is_quantized

    if is_quantized(model.prop_head):
        return None
    for p in model.prop_head.parameters():  # the head is read, never trained, here
        p.requires_grad_(False)
    if name != "plogp_norm":
        k = props.index(name)
        return lambda z: model.predict_properties(z)[:, k]
    from ..objectives.spec import plogp_norm_of_terms

    il, isa, ip = (props.index(n) for n in ("logp", "sa", "plogp"))

    def plogp_norm(z):  # plogp = logp - sa + ring term
        pred = model.predict_properties(z)
        return plogp_norm_of_terms(pred[:, il], pred[:, isa], pred[:, ip] - pred[:, il] + pred[:, isa])

    return plogp_norm


class Surrogate:
    """An MLP on z predicting the (internal, maximized) score in the run's standard units, on top of the
    head's prediction when there is one."""

    def __init__(self, dim: int, prior, sign: float, seed: int, epochs: int, n_fit: int):
        import torch
        from torch import nn

        self.prior, self.sign, self.epochs, self.n_fit = prior, sign, epochs, n_fit
        self.gen = torch.Generator().manual_seed(seed)
        self.net = nn.Sequential(nn.Linear(dim, 128), nn.SiLU(), nn.Linear(128, 128), nn.SiLU(), nn.Linear(128, 1))
        if prior is not None:  # the head predicts the objective: the MLP starts as a zero correction
            nn.init.zeros_(self.net[-1].weight)
            nn.init.zeros_(self.net[-1].bias)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=3e-3, weight_decay=1e-4)
        self.mean, self.sd = 0.0, 1.0

    def __call__(self, z):
        out = self.net(z)
        if self.prior is not None:
            out = out + ((self.sign * self.prior(z) - self.mean) / self.sd)[:, None]
        return out

    def fit(self, z: np.ndarray, y: np.ndarray) -> None:
        """Refit (warm) on the n_fit/2 best and the n_fit/2 most recent points."""
        import torch
        from torch import nn

        order = np.argsort(-y, kind="stable")
        idx = np.unique(np.concatenate([order[: self.n_fit // 2], np.arange(max(0, len(y) - self.n_fit // 2), len(y))]))
        tz = torch.tensor(z[idx], dtype=torch.float32)
        self.mean, self.sd = float(y[idx].mean()), float(y[idx].std() + 1e-8)
        ty = torch.tensor((y[idx] - self.mean) / self.sd, dtype=torch.float32)[:, None]
        for _ in range(self.epochs):
            perm = torch.randperm(len(tz), generator=self.gen)
            for b in range(0, len(tz), 256):
                sel = perm[b : b + 256]
                self.opt.zero_grad()
                nn.functional.mse_loss(self(tz[sel]), ty[sel]).backward()
                self.opt.step()


def _best_distinct(search: Search, n: int) -> np.ndarray:
    """The latents of the n best distinct molecules."""
    archive = search.archive
    firsts: dict = {}
    for i in np.argsort(-archive.y, kind="stable"):
        firsts.setdefault(archive.smiles[i], i)
        if len(firsts) == n:
            break
    return archive.z[list(firsts.values())]


def _ascend(search: Search, surrogate: Surrogate, starts: np.ndarray, steps: int, step: float, noise: float):
    """Every point on the gradient paths from the jittered starts: (steps x starts x reps, D)."""
    import torch

    q, dim, z0 = search.q, search.dim, search.z0
    radius = math.sqrt(dim) + 2.0
    reps = max(1, q // len(starts))
    zs = np.repeat(starts, reps, axis=0) + noise * search.rng.standard_normal((len(starts) * reps, dim))
    z = torch.tensor(zs, dtype=torch.float32, requires_grad=True)
    path = []
    for _ in range(steps):
        g, = torch.autograd.grad(surrogate(z).sum(), z)
        with torch.no_grad():
            z = z + step * g / (g.norm(dim=1, keepdim=True) + 1e-12)
            if z0 is not None:
                t0 = torch.tensor(z0, dtype=torch.float32)
                d = z - t0
                z = t0 + d * torch.clamp(3.0 / (d.norm(dim=1, keepdim=True) + 1e-12), max=1.0)
            z = z * torch.clamp(radius / (z.norm(dim=1, keepdim=True) + 1e-12), max=1.0)
        path.append(z.detach().clone())
        z.requires_grad_(True)
    return torch.cat(path).numpy().astype(np.float64)


def _pick_new(search: Search, zp: np.ndarray, pred: np.ndarray, max_decode: int):
    """Decode path points best-predicted first, 2q at a time, until q new molecules are found (or
    max_decode * q points are spent): (chosen indices, their SMILES, points decoded)."""
    q, oracle = search.q, search.oracle
    ranked = np.argsort(-pred, kind="stable")
    chosen, picked, seen, decoded = [], [], set(), 0
    for b in range(0, min(len(ranked), max_decode * q), 2 * q):
        block = ranked[b : b + 2 * q]
        for i, smi in zip(block, search.vae.decode(zp[block].astype(np.float32), greedy=True)):
            decoded += 1
            c = oracle.canonical(smi)
            if c is not None and c not in seen and not oracle.known(c):
                seen.add(c)
                chosen.append(i)
                picked.append(smi)
                if len(chosen) == q:
                    return chosen, picked, decoded
    return chosen, picked, decoded


def gradient(search: Search, n_init: int | None = None, steps: int = 8, step_size: float = 0.15,
             n_starts: int | None = None, noise: float = 0.1, n_fit: int = 1000, epochs: int = 150,
             max_stall: int = 10, use_head: bool = True, max_decode: int = 4, grow_max: float = 8.0) -> str:
    """Gradient ascent on a refitted surrogate (see the module docstring). Returns why it stopped."""
    import torch

    oracle, archive, q = search.oracle, search.archive, search.q
    if n_init is None:
        n_init = int(np.clip(oracle.budget // 10, 2 * q, 500))
    if n_starts is None:
        n_starts = max(2, q // 4)
    search.initial(n_init)
    prior = head_prior(search.vae, oracle) if use_head else None
    surrogate = Surrogate(search.dim, prior, oracle.sign, search.seed, epochs, n_fit)
    stall, grow = 0, 1.0
    while not oracle.exhausted and stall < max_stall:
        if not len(archive.y):  # nothing answered yet (every decode invalid): more prior draws
            stall += 0 if search.score_latents(search.draw(q)) else 1
            continue
        search.learn()  # a fine-tuning round re-encodes the archive; the surrogate refits on it below
        surrogate.fit(archive.z, archive.y)
        zp = _ascend(search, surrogate, _best_distinct(search, n_starts), steps, grow * step_size, grow * noise)
        with torch.no_grad():
            pred = surrogate(torch.tensor(zp, dtype=torch.float32)).numpy().reshape(-1)
        chosen, picked, decoded = _pick_new(search, zp, pred, max_decode)
        # paths that decode mostly to known molecules step further next time; mostly new ones, less far
        found = len(chosen) / max(decoded, 1)
        grow = min(grow * 1.5, grow_max) if found < 0.25 else max(grow / 1.5, 1.0) if found > 0.6 else grow
        before = oracle.seen
        if chosen:
            archive.add(zp[chosen], oracle(picked), picked)
        else:  # nothing new on the paths: spend the batch on prior draws (or draws around the start)
            search.score_latents(search.draw(q))
        stall = 0 if oracle.seen > before else stall + 1
    return oracle.stop_reason or "stalled"
