"""Learned priors over the latent space: a density fitted to where the encoder puts molecules (the aggregate
posterior), to draw latents from instead of N(0, I).

The encoder does not fill N(0, I) (on the bundled default model, mean |mu| 0.44 and mean sigma 0.74 per
dimension), so prior draws land where no molecule was encoded; a density fitted to the encoded training set is
the classic fix (two-stage VAE, Dai and Wipf, ICLR 2019; VampPrior, Tomczak and Welling, AISTATS 2018). The
density here is a mixture of diagonal Gaussians fitted by EM to the training molecules' mu: it samples and
scores in closed form, fits in a minute on a CPU and, measured against the alternatives, is what
benchmarks/prior_choice.py chose for the MOSES model (see its results file). A model whose posteriors are narrow
(a large KL, as the broad model's) leaves holes that no smooth density avoids (benchmarks/latent_gaps.py); for it
the mixture can instead have one component per exemplar training molecule, its posterior widened
(GaussianMixture.exemplars).

A prior is stored in the model directory as ``prior.safetensors`` (the mixture's tensors) and ``prior.json``
(what it was fitted on and how); nothing is unpickled.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from ..io.atomic import atomic_path, write_json
from ..errors import MolvaeError

PRIOR_WEIGHTS, PRIOR_RECORD = "prior.safetensors", "prior.json"


class PriorError(MolvaeError):
    """A prior file that cannot be used (one line)."""


class GaussianMixture:
    """A mixture of K diagonal Gaussians over the D-dimensional latent space."""

    kind = "gaussian_mixture"

    def __init__(self, weights: torch.Tensor, means: torch.Tensor, log_vars: torch.Tensor):
        k, d = means.shape
        if weights.shape != (k,) or log_vars.shape != (k, d):
            raise PriorError(f"prior tensors disagree: weights {tuple(weights.shape)}, means {tuple(means.shape)},"
                             f" log_vars {tuple(log_vars.shape)}")
        if not all(torch.isfinite(t).all() for t in (weights, means, log_vars)) or (weights < 0).any():
            raise PriorError("prior tensors contain NaN, inf or negative weights")
        self.weights = (weights / weights.sum()).double()
        self.means, self.log_vars = means.double(), log_vars.double()
        self.sampling: dict = {}  # the decoding it was chosen with (prior.json's sampling: rerank, relaxed, refine)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def components(self) -> int:
        return self.means.shape[0]

    def _component_log_probs(self, z: torch.Tensor) -> torch.Tensor:
        """(N, K): log w_k + log N(z | mean_k, var_k), by matrix products (no N x K x D array)."""
        inv = torch.exp(-self.log_vars)
        quad = (z * z) @ inv.T - 2 * z @ (self.means * inv).T + (self.means ** 2 * inv).sum(1)
        norm = self.log_vars.sum(1) + self.dim * math.log(2 * math.pi)
        return torch.log(self.weights) - 0.5 * (quad + norm)

    def log_prob(self, z) -> np.ndarray:
        """Log-density of each row of z (NaN rows stay NaN)."""
        z = torch.as_tensor(np.asarray(z, dtype=np.float64))
        out = torch.full((len(z),), float("nan"), dtype=torch.float64)
        ok = torch.isfinite(z).all(1)
        rows = max(1, min(8192, 2 ** 24 // self.components))  # at most 16M (row, component) pairs at a time
        for s in range(0, int(ok.sum()), rows):
            idx = torch.nonzero(ok).reshape(-1)[s : s + rows]
            out[idx] = torch.logsumexp(self._component_log_probs(z[idx]), 1)
        return out.numpy()

    def sample(self, n: int, generator: torch.Generator | None = None, scale: float = 1.0,
               device="cpu") -> torch.Tensor:
        """n latents (float32 on ``device``); ``scale`` multiplies each component's standard deviation."""
        return self.sample_with_components(n, generator, scale)[0].to(device)

    def sample_with_components(self, n: int, generator: torch.Generator | None = None,
                               scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """sample()'s n latents (float32, CPU) and the index of the component each was drawn from."""
        comp = torch.multinomial(self.weights.float(), n, replacement=True, generator=generator)
        eps = torch.randn(n, self.dim, generator=generator)
        z = self.means[comp] + scale * torch.exp(0.5 * self.log_vars[comp]) * eps.double()
        return z.float(), comp

    @classmethod
    def fit(cls, x: np.ndarray, k: int, iters: int = 200, seed: int = 0, min_var: float = 1e-3,
            tol: float = 1e-5, log=lambda m: None) -> "GaussianMixture":
        """EM on the rows of x (initialized at k random rows); variances are floored at min_var."""
        x = torch.as_tensor(np.asarray(x, dtype=np.float64))
        if len(x) < k:
            raise MolvaeError(f"a {k}-component mixture needs at least {k} points, got {len(x)}")
        g = torch.Generator().manual_seed(seed)
        means = x[torch.randperm(len(x), generator=g)[:k]].clone()
        log_vars = torch.log(x.var(0, keepdim=True).expand(k, -1).clone())
        gm = cls(torch.full((k,), 1.0 / k, dtype=torch.float64), means, log_vars)
        last = -math.inf
        for it in range(iters):
            lp = gm._component_log_probs(x)
            total = torch.logsumexp(lp, 1, keepdim=True)
            resp = torch.exp(lp - total)
            nk = resp.sum(0) + 1e-10
            means = (resp.T @ x) / nk[:, None]
            var = (resp.T @ (x * x)) / nk[:, None] - means ** 2
            gm = cls(nk / nk.sum(), means, torch.log(var.clamp(min=min_var)))
            ll = float(total.mean())
            if ll - last < tol:
                break
            last = ll
        log(f"mixture of {k}: {it + 1} EM iterations, mean log-likelihood {ll:.3f}")
        return gm

    @classmethod
    def exemplars(cls, mu: np.ndarray, log_var: np.ndarray, scale: float = 1.0) -> "GaussianMixture":
        """One equally weighted component per encoded molecule, N(mu_i, (scale sigma_i)^2): the aggregate
        posterior itself, its spread widened by ``scale`` (an exemplar prior, as in the Exemplar VAE, Norouzi,
        Fleet and Norouzi, NeurIPS 2020, here built after training). Draws land where the decoder was trained,
        and the wider the scale the more of them decode to molecules other than the exemplars."""
        mu, log_var = (torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in (mu, log_var))
        return cls(torch.ones(len(mu), dtype=torch.float64), mu, log_var + 2 * math.log(scale))

    @classmethod
    def exemplars_drawn(cls, mu: np.ndarray, log_var: np.ndarray, k: int, scale: float = 1.0,
                        seed: int = 0) -> "GaussianMixture":
        """exemplars() of k rows of (mu, log_var) drawn at random with ``seed`` (the prior fit-prior ships and
        benchmarks/prior_choice.py scores pick the same rows)."""
        pick = np.sort(np.random.default_rng(seed).choice(len(mu), k, replace=False))
        return cls.exemplars(mu[pick], log_var[pick], scale)

    def tensors(self, half: bool = False) -> dict:
        """The tensors to save; ``half`` stores means and log-variances in float16 (an exemplar prior has a
        component per molecule)."""
        dt = torch.float16 if half else torch.float32
        return {"weights": self.weights.float(), "means": self.means.to(dt), "log_vars": self.log_vars.to(dt)}


KINDS = ("mixture", "exemplars")


def fit_to_model(vae, smiles, components: int = 400, seed: int = 0, log=lambda m: None, kind: str = "mixture",
                 scale: float = 1.0) -> tuple:
    """Encode training molecules with ``vae`` and build a prior on them: (prior, record for prior.json).
    ``kind`` "mixture": a ``components``-Gaussian mixture fitted by EM to their mu; "exemplars": the posteriors
    of ``components`` of them drawn at random (seed), widened by ``scale`` (GaussianMixture.exemplars)."""
    import time

    if kind not in KINDS:
        raise MolvaeError(f"unknown prior kind '{kind}' ({', '.join(KINDS)})")
    t = time.time()
    mu, log_var = vae.encode(smiles, return_logvar=True)
    ok = np.isfinite(mu).all(1)
    mu, log_var = mu[ok], log_var[ok]
    log(f"encoded {len(mu)} of {len(smiles)} molecules in {time.time() - t:.0f}s")
    if len(mu) < components:
        raise MolvaeError(f"{len(mu)} encodable molecules are too few for a {components}-component prior")
    if kind == "exemplars":
        prior = GaussianMixture.exemplars_drawn(mu, log_var, components, scale, seed)
        how = f"the posteriors of {components} of the training molecules (exemplars), sigma x {scale}"
    else:
        prior = GaussianMixture.fit(mu, components, seed=seed, log=log)
        how = "mu of the training molecules"
    return prior, {"fitted_on": how, "molecules": int(len(mu)), "seed": seed,
                   "fit_seconds": round(time.time() - t, 1), "prior": kind, "scale": scale}


def save(model_dir, prior: GaussianMixture, record: dict) -> None:
    """Write prior.safetensors and prior.json into a model directory (each renamed into place) and describe
    the prior in its MODEL_CARD.md."""
    from safetensors.torch import save_file

    d = Path(model_dir)
    with atomic_path(d / PRIOR_WEIGHTS, suffix=".safetensors") as tmp:
        half = record.get("prior") == "exemplars"
        save_file({k: v.contiguous() for k, v in prior.tensors(half).items()}, str(tmp))
    full = {"kind": prior.kind, "components": prior.components, "dim": prior.dim, **record}
    write_json(d / PRIOR_RECORD, full)
    card = d / "MODEL_CARD.md"
    if card.exists():
        text = card.read_text().split("\n## Learned prior\n")[0].rstrip("\n")
        how = ("one per exemplar training molecule (its posterior, widened)" if record.get("prior") == "exemplars"
               else "fitted by EM")
        lines = ["", "## Learned prior", f"A mixture of {prior.components} diagonal Gaussians over the latent space"
                 f" (`prior.safetensors`, `prior.json`), {how}; `molvae sample` draws from it by default"
                 " (`--prior standard` for N(0, I)).", *[f"- {k}: {v}" for k, v in record.items()], ""]
        with atomic_path(card) as tmp:
            tmp.write_text(text + "\n" + "\n".join(lines))


def load(model_dir, latent_dim: int) -> GaussianMixture | None:
    """The model directory's prior, or None when it has none; a damaged one is a PriorError (one line)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    d = Path(model_dir)
    if not (d / PRIOR_WEIGHTS).exists() and not (d / PRIOR_RECORD).exists():
        return None
    try:
        record = json.loads((d / PRIOR_RECORD).read_text())
        if not isinstance(record, dict) or record.get("kind") != GaussianMixture.kind:
            raise MolvaeError(f"unknown prior kind {record.get('kind') if isinstance(record, dict) else record!r}")
        t = load_file(str(d / PRIOR_WEIGHTS))
        prior = GaussianMixture(t["weights"], t["means"], t["log_vars"])
        prior.sampling = _sampling(record.get("sampling", {}))
    except (OSError, ValueError, KeyError, SafetensorError) as exc:
        raise PriorError(f"damaged prior in {d}: {str(exc).splitlines()[0]}") from None
    if prior.dim != latent_dim:
        raise PriorError(f"damaged prior in {d}: it is {prior.dim}-dimensional, the model's latent space {latent_dim}")
    return prior


RANKS = ("likelihood", "critic")


def _sampling(d) -> dict:
    """prior.json's sampling defaults, checked: {"rerank": int >= 1, "relaxed": bool, "refine": int >= 0, "rank":
    one of RANKS}, each optional."""
    if not isinstance(d, dict) or set(d) - {"rerank", "relaxed", "refine", "rank"} \
            or d.get("rank", "likelihood") not in RANKS \
            or not (isinstance(d.get("rerank", 1), int) and d.get("rerank", 1) >= 1) \
            or not (isinstance(d.get("refine", 0), int) and d.get("refine", 0) >= 0) \
            or not isinstance(d.get("relaxed", False), bool):
        raise ValueError(f"bad sampling defaults {d!r}")
    return d


def record_sampling(model_dir, **changes) -> dict:
    """Set sampling defaults (e.g. rank="critic", rerank=4) in a model directory's prior.json; the new defaults."""
    from ..io.atomic import write_json

    d = Path(model_dir) / PRIOR_RECORD
    try:
        full = json.loads(d.read_text())
        full["sampling"] = _sampling({**full.get("sampling", {}), **changes})
    except (OSError, ValueError, AttributeError) as exc:
        raise PriorError(f"cannot record sampling defaults in {d}: {str(exc).splitlines()[0]}") from None
    write_json(d, full)
    return full["sampling"]


def record(prior: GaussianMixture) -> dict:
    """What a model directory's prior.json says, for the model card."""
    return {"kind": prior.kind, "components": prior.components}
