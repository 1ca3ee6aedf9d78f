"""Latent-space optimization under an oracle budget: ``random``, ``bo`` and ``gradient``.

Every method moves latent points z, decodes them greedily and sends the molecules to an :class:`Oracle`,
which scores each distinct molecule once and counts the budget the way PMO does (W. Gao, T. Fu, J. Sun,
C. W. Coley, "Sample Efficiency Matters: A Benchmark for Practical Molecular Optimization", NeurIPS 2022
Datasets and Benchmarks): the budget is the number of distinct valid molecules sent to the objective.

* A repeat (same canonical SMILES) is answered from the cache for free.
* An invalid decode (None, or a SMILES RDKit rejects) is never sent to the objective, costs nothing and gets
  no row in the log; the summary counts such decodes in ``invalid_decodes``. (PMO scores them 0 without
  recording them, so they do not count there either.)
* A run stops when the budget is spent, or earlier when a method stops finding new molecules
  (``stopped = "stalled"``); the top-10 AUC then extends the last value to the budget, as PMO does.

Methods (z lives in the model's latent space, prior N(0, I)):

``random``
    Prior sampling in batches: the honest baseline. With a start molecule, z = mu(start) + r * eps with r
    uniform in (0.05, 0.6).
``bo``
    Trust-region Bayesian optimization in the style of TuRBO (D. Eriksson, M. Pearce, J. Gardner, R. Turner,
    M. Poloczek, "Scalable Global Optimization via Local Bayesian Optimization", NeurIPS 2019), with BoTorch.
    See :func:`_bo` for what it does and how it differs from PMO's VAE-BO baseline.
``gradient``
    Gradient ascent in z on a small MLP surrogate that is fitted online to the (z, score) pairs the run has
    gathered. See :func:`_gradient`.

Constrained mode (``start`` and ``similarity_min``): the search starts at mu(start); the start itself is the
first oracle call; every molecule reported in the summary or :meth:`OptimizeResult.best` has Tanimoto
similarity (Morgan radius 2, 2048 bits) >= ``similarity_min`` to the start, and the summary states the
improvement over the start's score. Similarity is checked before the objective: once the start is scored, a
decoded molecule below the floor is not sent to the objective and costs no call (the summary counts them in
``below_floor``); to the optimizer it is worth ``start_value - 1 - (similarity_min - similarity)`` (always
worse than the start, and less bad the closer it is), so the search is steered back towards the feasible
region. A below-floor molecule counts as progress for the stall rule (it is a new molecule, and free), so a
method keeps searching for the feasible region instead of stopping after a few batches below the floor; to
keep that search finite, a run also stops after ``below_limit`` distinct molecules below the floor (20 times
the budget by default; ``stopped = "below_limit"``).

Internally every method maximizes (a minimized objective is negated); the log keeps the objective's own
value in ``score``. Same seed, same run: numpy and torch draws come from generators seeded by ``seed``, and
BoTorch's own draws run under ``torch.manual_seed(seed)`` inside a forked RNG state.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import chem

METHODS = ("bo", "gradient", "random")
FREQ_LOG = 100  # PMO logs the top-n every 100 calls


class OptimizeError(ValueError):
    """A user error in an optimization request (one line, no traceback)."""


# -- PMO's top-n AUC ---------------------------------------------------------------------------------------
def top_auc(scores, budget: int, top_n: int = 10, freq_log: int = FREQ_LOG, finish: bool = True,
            direction: str = "maximize", feasible=None) -> float:
    """Area under the curve of the mean of the top-n scores against oracle calls, normalized by the budget,
    as PMO defines it (Gao et al. 2022, and its code's oracle logging):

    the mean of the best ``top_n`` scores among the first k calls is taken at k = freq_log, 2 freq_log, ...
    (below the number of calls) and at the last call; the curve starts at 0 at k = 0; the area under these
    points by the trapezoid rule is divided by ``budget``; with ``finish`` a run that stopped before the
    budget has its last value extended flat to the budget. Fewer than ``top_n`` scores: the mean of those
    there are. For a minimized objective the "best" are the lowest. ``feasible`` (a boolean mask) leaves
    out calls that do not count (constrained mode); they still take up their place on the call axis.
    """
    s = np.asarray(scores, dtype=np.float64)
    n = len(s)
    if budget <= 0:
        raise ValueError("budget must be positive")
    sign = 1.0 if direction == "maximize" else -1.0
    ok = np.ones(n, dtype=bool) if feasible is None else np.asarray(feasible, dtype=bool)

    def top(k: int) -> float:
        v = sign * s[:k][ok[:k]]
        return float(sign * np.sort(v)[::-1][:top_n].mean()) if len(v) else 0.0

    area, prev, called = 0.0, 0.0, 0
    for k in range(freq_log, min(n, budget), freq_log):
        cur = top(k)
        area += freq_log * (cur + prev) / 2
        prev, called = cur, k
    cur = top(n)
    area += (n - called) * (cur + prev) / 2
    if finish and n < budget:
        area += (budget - n) * cur
    return area / budget


# -- the oracle --------------------------------------------------------------------------------------------
class Oracle:
    """An objective behind a cache (keyed by canonical SMILES) and a budget of distinct valid molecules.

    ``oracle(smiles)`` returns one internal value per input (larger is better): the objective's value
    (negated when it is minimized; in constrained mode below the floor, the penalized value described in the
    module docstring), NaN for an invalid molecule or a new one that came after the budget ran out. Each new
    molecule appends a row to the call log: ``call``, ``smiles``, ``score`` (the objective's own value), the
    component values of a multi-component objective, and ``similarity`` in constrained mode.
    """

    def __init__(self, objective, budget: int, start: str | None = None, similarity_min: float | None = None,
                 progress: bool = False, below_limit: int | None = None):
        self.objective, self.budget = objective, int(budget)
        self.below_limit = 20 * self.budget if below_limit is None else int(below_limit)
        self.sign = 1.0 if objective.direction == "maximize" else -1.0
        self.start, self.similarity_min = start, similarity_min
        self._start_fp = chem.morgan_fp(chem.to_mol(start)) if start else None
        self.start_value: float | None = None  # internal value of the start, once scored
        self.cache: dict[str, tuple[float, float]] = {}  # canonical SMILES -> (internal value, similarity)
        self.below: dict[str, float] = {}  # constrained mode: molecules below the floor (never scored) -> similarity
        self._canon: dict[str, str | None] = {}
        self.rows: list[dict] = []
        self.invalid = self.repeats = 0
        self.best_value, self.best_smiles = -math.inf, None
        self._bar = None
        if progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.budget, desc=f"optimize {objective.name}", unit="call", leave=False)

    @property
    def calls(self) -> int:
        return len(self.rows)

    @property
    def seen(self) -> int:
        """Distinct valid molecules met so far: the scored ones and, in constrained mode, those below the floor."""
        return len(self.rows) + len(self.below)

    @property
    def stop_reason(self) -> str | None:
        if self.calls >= self.budget:
            return "budget"
        return "below_limit" if len(self.below) >= self.below_limit else None

    @property
    def exhausted(self) -> bool:
        return self.stop_reason is not None

    def canonical(self, s) -> str | None:
        if not isinstance(s, str) or not s:
            return None
        if s not in self._canon:
            self._canon[s] = chem.canonical(s)
        return self._canon[s]

    def known(self, s) -> bool:
        c = self.canonical(s)
        return c is not None and (c in self.cache or c in self.below)

    def _similarities(self, canon: list[str]) -> np.ndarray:
        from rdkit import DataStructs

        fps = [chem.morgan_fp(chem.to_mol(c)) for c in canon]
        return np.array(DataStructs.BulkTanimotoSimilarity(self._start_fp, fps), dtype=np.float64)

    def _target(self, value: float, sim: float) -> float:
        if self.similarity_min is None or sim >= self.similarity_min or self.start_value is None:
            return value
        return self.start_value - 1.0 - (self.similarity_min - sim)

    def feasible(self, sim: float) -> bool:
        return self.similarity_min is None or sim >= self.similarity_min

    def __call__(self, smiles) -> np.ndarray:
        canon = [self.canonical(s) for s in smiles]
        fresh = []
        for c in canon:
            if c is None:
                self.invalid += 1
            elif c in self.cache or c in self.below or c in fresh:
                self.repeats += 1
            else:
                fresh.append(c)
        sims = self._similarities(fresh) if fresh and self._start_fp is not None else np.ones(len(fresh))
        if self._start_fp is not None and self.start_value is not None:  # the floor is free to check
            self.below.update((c, float(v)) for c, v in zip(fresh, sims) if v < self.similarity_min)
            keep = sims >= self.similarity_min
            fresh, sims = [c for c, k in zip(fresh, keep) if k], sims[keep]
        room = max(0, self.budget - self.calls)
        new, sims = fresh[:room], sims[:room]
        if new:
            self._score(new, sims)
        out = np.full(len(canon), np.nan)
        for i, c in enumerate(canon):
            if c is not None and c in self.cache:
                out[i] = self._target(*self.cache[c])
            elif c is not None and c in self.below:
                out[i] = self._target(-math.inf, self.below[c])
        return out

    def _score(self, new: list[str], sims: np.ndarray) -> None:
        """Send new molecules to the objective; sims: their similarity to the start (ones without one)."""
        raw = np.asarray(self.objective(new), dtype=np.float64)
        comps = self.objective.components(new) if hasattr(self.objective, "components") else {}
        for j, c in enumerate(new):
            value = self.sign * raw[j]
            self.cache[c] = (value, float(sims[j]))
            if self.start_value is None and self.start is not None and c == self.start:
                self.start_value = value
            row = {"call": self.calls + 1, "smiles": c, "score": raw[j]}
            row.update({k: float(v[j]) for k, v in comps.items() if k not in ("call", "smiles", "score")})
            if self._start_fp is not None:
                row["similarity"] = round(float(sims[j]), 4)
            self.rows.append(row)
            if self.feasible(sims[j]) and value > self.best_value:
                self.best_value, self.best_smiles = value, c
        if self._bar is not None:
            self._bar.update(len(new))
            if self.best_smiles is not None:
                self._bar.set_postfix(best=f"{self.sign * self.best_value:.4g}")

    def close(self):
        if self._bar is not None:
            self._bar.close()


# -- result ------------------------------------------------------------------------------------------------
@dataclass
class OptimizeResult:
    """``log``: one row per oracle call, in call order. ``summary``: best score and molecule, calls, top-10
    AUC (PMO), time, and in constrained mode the start, its score and the improvement."""

    log: pd.DataFrame
    summary: dict

    def best(self, k: int = 10) -> pd.DataFrame:
        """The k best distinct molecules (above the similarity floor in constrained mode)."""
        df = self.log
        if "similarity" in df and self.summary.get("similarity_min") is not None:
            df = df[df["similarity"] >= self.summary["similarity_min"]]
        asc = self.summary["direction"] == "minimize"
        return df.sort_values(["score", "call"], ascending=[asc, True], kind="stable").head(k).reset_index(drop=True)


# -- helpers shared by the methods -------------------------------------------------------------------------
class _Data:
    """Every latent point whose decode the oracle answered: z (N, D) and the internal value y (N,)."""

    def __init__(self, dim: int):
        self.z, self.y, self.smiles = np.zeros((0, dim)), np.zeros(0), []

    def add(self, z, y, smiles):
        keep = ~np.isnan(y)
        self.z = np.vstack([self.z, z[keep]])
        self.y = np.concatenate([self.y, y[keep]])
        self.smiles += [s for s, k in zip(smiles, keep) if k]


def _evaluate(vae, oracle: Oracle, data: _Data, z: np.ndarray, rng, z0=None, refill: int = 3) -> int:
    """Decode z, score the molecules and record the answered points; invalid decodes are replaced by fresh
    prior draws, or draws around the start in constrained mode (up to ``refill`` rounds). Returns the number of
    new molecules (oracle calls, and molecules below the floor in constrained mode)."""
    before = oracle.seen
    for _ in range(refill + 1):
        if oracle.exhausted or not len(z):
            break
        smiles = vae.decode(z.astype(np.float32), greedy=True)
        y = oracle(smiles)
        data.add(z, y, smiles)
        bad = np.array([oracle.canonical(s) is None for s in smiles])
        z = _draw(rng, int(bad.sum()), z.shape[1], z0)
    return oracle.seen - before


def _draw(rng, n: int, dim: int, z0=None) -> np.ndarray:
    """n prior draws, or with a start latent z0, draws around it at radii uniform in (0.05, 0.6)."""
    eps = rng.standard_normal((n, dim))
    if z0 is None:
        return eps
    return z0[None] + rng.uniform(0.05, 0.6, size=(n, 1)) * eps


def _initial(vae, oracle, data, rng, n: int, z0=None):
    """Constrained mode: mu(start) and n draws around it (the start itself is call 1, scored by
    :func:`optimize`); otherwise n prior draws."""
    if z0 is not None:
        _evaluate(vae, oracle, data, z0[None].astype(np.float64), rng, z0)
    _evaluate(vae, oracle, data, _draw(rng, n, vae.latent_dim, z0), rng, z0)


# -- methods -----------------------------------------------------------------------------------------------
def _random(vae, oracle, data, rng, q: int, z0=None, max_stall: int = 20, **_):
    stall = 0
    while not oracle.exhausted and stall < max_stall:
        stall = 0 if _evaluate(vae, oracle, data, _draw(rng, q, vae.latent_dim, z0), rng, z0) else stall + 1
    return oracle.stop_reason or "stalled"


def _bo(vae, oracle, data, rng, q: int, z0=None, seed: int = 0, n_init: int | None = None, bound: float = 4.0,
        n_fit: int = 300, n_top: int = 50, n_candidates: int = 2000, fit_iters: int = 40,
        length_init: float | None = None, length_min: float = 0.5**7, length_max: float = 1.6, success_tol: int = 3,
        max_stall: int = 10, **_):
    """Trust-region BO in latent space (TuRBO-1 style, Eriksson et al. 2019) with BoTorch.

    * Surrogate: ``SingleTaskGP`` (BoTorch's default RBF kernel with ARD and dimension-scaled priors) on the
      latent box [-bound, bound]^D mapped to the unit cube, outcomes standardized (``Standardize``). It is
      fitted on a bounded subset: the ``n_fit`` points nearest the trust-region centre plus the ``n_top``
      best points, with at most ``fit_iters`` L-BFGS iterations warm-started from the previous fit's
      hyperparameters, so a fit stays around a second however long the run.
    * Trust region: a box centred on the best point found since the last restart, side ``L`` (unit-cube
      units; per-dimension sides scaled by the GP lengthscales over their geometric mean, as in TuRBO).
      ``success_tol`` consecutive improving batches double L (up to ``length_max``); ``ceil(max(4/q, D/q))``
      consecutive failures halve it. When L falls below ``length_min``, or a whole batch decodes only to
      molecules already seen, the region restarts around the best point that has not yet been a collapsed
      centre (so the data are kept, unlike TuRBO's fresh restarts; recentring as in CoBO, Lee et al. 2023).
    * Batch acquisition: Thompson sampling (BoTorch ``MaxPosteriorSampling`` without replacement) over
      ``n_candidates`` points in the region, each perturbing the centre in a random ~20 of the D dimensions
      (TuRBO's candidate generation). Thompson sampling picks a diverse batch of q at the cost of one joint
      posterior draw, where q-EI would need a 64-dimensional acquisition optimization per batch.
    * Initial design: ``n_init`` prior draws (the start molecule and draws around it in constrained mode);
      invalid decodes are replaced by fresh prior draws.

    Compared with PMO's VAE-BO baseline (one global GP over the last 200 points, UCB, invalid decodes
    replaced by random molecules), the trust region keeps the search where the GP is locally accurate and
    where the decoder turns nearby z into related molecules, and the surrogate's data are chosen by distance
    to the region rather than by recency.
    """
    try:
        import torch
        from botorch.fit import fit_gpytorch_mll
        from botorch.generation import MaxPosteriorSampling
        from botorch.models import SingleTaskGP
        from botorch.models.transforms.outcome import Standardize
        from gpytorch.mlls import ExactMarginalLogLikelihood
    except ImportError:
        raise OptimizeError("method 'bo' needs BoTorch: pip install molvae[bo]") from None

    dim = vae.latent_dim
    fail_tol = math.ceil(max(4.0 / q, dim / q))
    if length_init is None:
        length_init = 0.8 if z0 is None else 0.2
    if n_init is None:
        n_init = int(np.clip(oracle.budget // 10, 2 * q, 500))
    _initial(vae, oracle, data, rng, n_init, z0)

    def unit(z):
        return np.clip((z + bound) / (2 * bound), 0.0, 1.0)

    length, succ, fail, stall = length_init, 0, 0, 0
    spent: set[str] = set()  # molecules that were centres of collapsed regions
    sobol = torch.quasirandom.SobolEngine(dim, scramble=True, seed=seed)
    region_best, hyper = -math.inf, None
    with torch.random.fork_rng(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(seed)
        while not oracle.exhausted and stall < max_stall:
            if not len(data.y):  # nothing answered yet (every decode invalid): more prior draws
                stall += 0 if _evaluate(vae, oracle, data, _draw(rng, q, dim, z0), rng, z0) else 1
                continue
            usable = np.array([s not in spent for s in data.smiles])
            if not usable.any():
                spent.clear()
                usable[:] = True
            c = int(np.flatnonzero(usable)[np.argmax(data.y[usable])])
            region_best = max(region_best, data.y[c])
            x = unit(data.z)
            near = np.argsort(((x - x[c]) ** 2).sum(1), kind="stable")[:n_fit]
            top = np.argsort(-data.y, kind="stable")[:n_top]
            idx = np.unique(np.concatenate([near, top]))
            tx = torch.tensor(x[idx], dtype=torch.float64)
            ty = torch.tensor(data.y[idx], dtype=torch.float64)[:, None]
            model = SingleTaskGP(tx, ty, outcome_transform=Standardize(m=1))
            if hyper:  # warm start from the previous fit's hyperparameters
                model.load_state_dict(hyper, strict=False)
            try:
                fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model),
                                 optimizer_kwargs={"options": {"maxiter": fit_iters}})
            except Exception:  # a failed fit keeps the previous hyperparameters; the step still proposes points
                pass
            hyper = {k: v for k, v in model.state_dict().items()
                     if k.startswith(("likelihood.", "mean_module.", "covar_module."))}
            kernel = model.covar_module
            ls = getattr(kernel, "base_kernel", kernel).lengthscale.detach().reshape(-1)
            w = ls / ls.mean()
            w = w / torch.prod(w.pow(1.0 / len(w)))
            centre = torch.tensor(x[c], dtype=torch.float64)
            lb = torch.clamp(centre - w * length / 2, 0.0, 1.0)
            ub = torch.clamp(centre + w * length / 2, 0.0, 1.0)
            pert = lb + (ub - lb) * sobol.draw(n_candidates).to(torch.float64)
            mask = torch.rand(n_candidates, dim) <= min(1.0, 20.0 / dim)
            mask[torch.arange(n_candidates), torch.randint(0, dim, (n_candidates,))] = True
            cand = torch.where(mask, pert, centre.expand(n_candidates, dim))
            with torch.no_grad():
                pick = MaxPosteriorSampling(model=model, replacement=False)(cand, num_samples=q)
            z = pick.numpy() * 2 * bound - bound
            n_before = len(data.y)
            new = _evaluate(vae, oracle, data, z, rng)
            y_batch = data.y[n_before:]
            stall = 0 if new else stall + 1
            if len(y_batch) and y_batch.max() > region_best + 1e-3 * abs(region_best):
                succ, fail = succ + 1, 0
                region_best = y_batch.max()
            else:
                succ, fail = 0, fail + 1
            if succ == success_tol:
                length, succ = min(2 * length, length_max), 0
            elif fail == fail_tol:
                length, fail = length / 2, 0
            if length < length_min or not new:
                spent.add(data.smiles[c])
                length, succ, fail, region_best = length_init, 0, 0, -math.inf
    return oracle.stop_reason or "stalled"


def _head_prior(vae, oracle):
    """The model's property head as a prior for the objective: a differentiable z -> predicted value (in the
    objective's units) when the head predicts the objective itself, or its terms (plogp_norm from logp, sa
    and plogp: the ring term is plogp - logp + sa), else None. An int8-quantized head has no gradient, so it
    is not used."""
    name = oracle.objective.name
    props = tuple(getattr(vae, "properties", ()) or ())
    if not ({"logp", "sa", "plogp"} if name == "plogp_norm" else {name}) <= set(props):
        return None
    model = vae.model
    if any("quantized" in type(m).__module__ for m in model.prop_head.modules()):
        return None
    for p in model.prop_head.parameters():  # the head is read, never trained, here
        p.requires_grad_(False)
    if name != "plogp_norm":
        k = props.index(name)
        return lambda z: model.predict_properties(z)[:, k]
    from .objectives import plogp_norm_of_terms

    il, isa, ip = (props.index(n) for n in ("logp", "sa", "plogp"))

    def plogp_norm(z):  # plogp = logp - sa + ring term
        pred = model.predict_properties(z)
        return plogp_norm_of_terms(pred[:, il], pred[:, isa], pred[:, ip] - pred[:, il] + pred[:, isa])

    return plogp_norm


def _gradient(vae, oracle, data, rng, q: int, z0=None, seed: int = 0, n_init: int | None = None, steps: int = 8,
              step_size: float = 0.15, n_starts: int | None = None, noise: float = 0.1, n_fit: int = 1000,
              epochs: int = 150, max_stall: int = 10, use_head: bool = True, max_decode: int = 4,
              grow_max: float = 8.0, **_):
    """Gradient ascent in z on a surrogate of the objective.

    The surrogate is a small MLP (SiLU, 128 wide) fitted, after every batch, to the (z, score) pairs the run
    has gathered (the latent that was decoded and the score of its decode; at most the ``n_fit`` best and
    most recent points, warm-started from the previous fit). When the objective is one of the properties the
    model's head predicts (a head trained with ``molvae train --properties``, as in Gomez-Bombarelli et al.,
    ACS Cent. Sci. 4, 268, 2018), the head's prediction is the surrogate's starting point, so the ascent has
    a gradient from the first batch, and the MLP learns only the correction. From each of the ``n_starts``
    best points, jittered by ``noise``, it takes ``steps`` normalized gradient steps of length
    ``step_size``, staying within the prior's typical radius sqrt(D) + 2 (and within 3 of mu(start) in
    constrained mode); the points on the paths are decoded in order of predicted value (2q at a time, only
    as many as needed, at most ``max_decode`` * q) and the first q new molecules go to the oracle.

    Step length and jitter adapt to the decoder: a greedy decoder maps a neighbourhood of each latent to one
    molecule, so short paths from the best points decode mostly to molecules already scored. When under a
    quarter of a batch's decodes are new, both grow by 1.5x (up to ``grow_max``); when over 60% are new, they
    shrink back towards their base values. Without this a 2,000-call run decoded 48,000 latents (24 per call)
    and spent three quarters of its time in the decoder; with it, 7,300 (under 4 per call).
    """
    import torch
    from torch import nn

    dim = vae.latent_dim
    if n_init is None:
        n_init = int(np.clip(oracle.budget // 10, 2 * q, 500))
    if n_starts is None:
        n_starts = max(2, q // 4)
    _initial(vae, oracle, data, rng, n_init, z0)
    gen = torch.Generator().manual_seed(seed)
    prior = _head_prior(vae, oracle) if use_head else None
    net = nn.Sequential(nn.Linear(dim, 128), nn.SiLU(), nn.Linear(128, 128), nn.SiLU(), nn.Linear(128, 1))
    if prior is not None:  # the head predicts the objective: the MLP starts as a zero correction
        nn.init.zeros_(net[-1].weight)
        nn.init.zeros_(net[-1].bias)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
    scale = {"mean": 0.0, "sd": 1.0}

    def surrogate(z):
        """Predicted (internal, maximized) score in the run's standard units."""
        out = net(z)
        if prior is not None:
            out = out + ((oracle.sign * prior(z) - scale["mean"]) / scale["sd"])[:, None]
        return out

    radius = math.sqrt(dim) + 2.0
    stall, grow = 0, 1.0
    while not oracle.exhausted and stall < max_stall:
        if not len(data.y):  # nothing answered yet (every decode invalid): more prior draws
            stall += 0 if _evaluate(vae, oracle, data, _draw(rng, q, dim, z0), rng, z0) else 1
            continue
        order = np.argsort(-data.y, kind="stable")
        idx = np.unique(np.concatenate([order[: n_fit // 2], np.arange(max(0, len(data.y) - n_fit // 2), len(data.y))]))
        tz = torch.tensor(data.z[idx], dtype=torch.float32)
        y = data.y[idx]
        scale.update(mean=float(y.mean()), sd=float(y.std() + 1e-8))
        ty = torch.tensor((y - scale["mean"]) / scale["sd"], dtype=torch.float32)[:, None]
        for _ in range(epochs):
            perm = torch.randperm(len(tz), generator=gen)
            for b in range(0, len(tz), 256):
                sel = perm[b : b + 256]
                opt.zero_grad()
                nn.functional.mse_loss(surrogate(tz[sel]), ty[sel]).backward()
                opt.step()
        # ascent from the best distinct molecules, jittered
        firsts = {}
        for i in order:
            firsts.setdefault(data.smiles[i], i)
            if len(firsts) == n_starts:
                break
        starts = data.z[list(firsts.values())]
        reps = max(1, q // len(starts))
        zs = np.repeat(starts, reps, axis=0) + grow * noise * rng.standard_normal((len(starts) * reps, dim))
        z = torch.tensor(zs, dtype=torch.float32, requires_grad=True)
        path = []
        for _ in range(steps):
            g, = torch.autograd.grad(surrogate(z).sum(), z)
            with torch.no_grad():
                z = z + grow * step_size * g / (g.norm(dim=1, keepdim=True) + 1e-12)
                if z0 is not None:
                    t0 = torch.tensor(z0, dtype=torch.float32)
                    d = z - t0
                    z = t0 + d * torch.clamp(3.0 / (d.norm(dim=1, keepdim=True) + 1e-12), max=1.0)
                z = z * torch.clamp(radius / (z.norm(dim=1, keepdim=True) + 1e-12), max=1.0)
            path.append(z.detach().clone())
            z.requires_grad_(True)
        zp = torch.cat(path).numpy().astype(np.float64)
        with torch.no_grad():
            pred = surrogate(torch.tensor(zp, dtype=torch.float32)).numpy().reshape(-1)
        ranked = np.argsort(-pred, kind="stable")
        chosen, picked, seen, decoded = [], [], set(), 0
        for b in range(0, min(len(ranked), max_decode * q), 2 * q):  # best-predicted first, as many as needed
            block = ranked[b : b + 2 * q]
            for i, smi in zip(block, vae.decode(zp[block].astype(np.float32), greedy=True)):
                decoded += 1
                c = oracle.canonical(smi)
                if c is not None and c not in seen and not oracle.known(c):
                    seen.add(c)
                    chosen.append(i)
                    picked.append(smi)
                    if len(chosen) == q:
                        break
            if len(chosen) == q:
                break
        # paths that decode mostly to known molecules step further next time; mostly new ones, less far
        found = len(chosen) / max(decoded, 1)
        grow = min(grow * 1.5, grow_max) if found < 0.25 else max(grow / 1.5, 1.0) if found > 0.6 else grow
        before = oracle.seen
        if chosen:
            data.add(zp[chosen], oracle(picked), picked)
        else:  # nothing new on the paths: spend the batch on prior draws (or draws around the start)
            _evaluate(vae, oracle, data, _draw(rng, q, dim, z0), rng, z0)
        stall = 0 if oracle.seen > before else stall + 1
    return oracle.stop_reason or "stalled"


_METHODS = {"random": _random, "bo": _bo, "gradient": _gradient}


# -- entry point -------------------------------------------------------------------------------------------
def default_batch_size(method: str, budget: int) -> int:
    """random: 500 (decoding batches); bo and gradient: budget/40 clipped to [10, 100]."""
    return 500 if method == "random" else int(np.clip(budget // 40, 10, 100))


def check_request(objective, budget, method: str = "bo", start=None, similarity_min=None, batch_size=None):
    """Validate everything that does not need the model; returns (objective, canonical start)."""
    from .objectives import get_objective

    if method not in METHODS:
        raise OptimizeError(f"unknown method {method!r} (choose from {', '.join(METHODS)})")
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget <= 0:
        raise OptimizeError(f"budget must be a positive whole number, got {budget!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                   or batch_size <= 0):
        raise OptimizeError(f"batch size must be a positive whole number, got {batch_size!r}")
    obj = get_objective(objective) if isinstance(objective, str) else objective
    canon = None
    if similarity_min is not None:
        if start is None:
            raise OptimizeError("a similarity floor needs a start molecule (--start)")
        if not (isinstance(similarity_min, (int, float)) and 0.0 <= similarity_min <= 1.0):
            raise OptimizeError(f"similarity minimum must be in [0, 1], got {similarity_min!r}")
    if start is not None:
        mol, why = chem.check_smiles(start)
        if mol is None:
            raise OptimizeError(f"invalid start molecule ({why}): {str(start)[:80]!r}")
        canon = chem.canonical(start)
    return obj, canon


def optimize(vae, objective, budget: int, method: str = "bo", start: str | None = None,
             similarity_min: float | None = None, seed: int = 0, batch_size: int | None = None,
             progress: bool = False, below_limit: int | None = None, **options) -> OptimizeResult:
    """Optimize ``objective`` (a spec for :func:`molvae.objectives.get_objective`, or an objective) over the
    latent space of ``vae`` with at most ``budget`` distinct molecules scored. ``start`` (+ ``similarity_min``,
    default 0.4 when a start is given) turns on constrained mode; ``below_limit`` bounds the free molecules below
    the floor (20 x budget by default). ``options`` go to the method (see
    :func:`_bo`, :func:`_gradient`)."""
    import torch

    if start is not None and similarity_min is None:
        similarity_min = 0.4
    obj, canon = check_request(objective, budget, method, start, similarity_min, batch_size)
    z0 = None
    if canon is not None:
        seqs, why = vae.tokenize([canon])
        if seqs[0] is None:
            raise OptimizeError(f"the start molecule cannot be encoded by this model ({why[0]}): {canon}")
        z0 = vae.encode([canon])[0].astype(np.float64)
    q = batch_size or default_batch_size(method, budget)
    oracle = Oracle(obj, budget, canon, similarity_min, progress, below_limit)
    data = _Data(vae.latent_dim)
    rng = np.random.default_rng(seed)
    t = time.time()
    try:
        if canon is not None:
            oracle([canon])  # call 1: the start's own score, the reference for the improvement
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            stopped = _METHODS[method](vae, oracle, data, rng, q, z0=z0, seed=seed, **options)
    finally:
        oracle.close()
    return _result(oracle, method, seed, q, stopped, time.time() - t)


def _result(oracle: Oracle, method: str, seed: int, q: int, stopped: str, seconds: float) -> OptimizeResult:
    log = pd.DataFrame(oracle.rows)
    if log.empty:
        log = pd.DataFrame(columns=["call", "smiles", "score"] + (["similarity"] if oracle.start else []))
    obj = oracle.objective
    feasible = log["similarity"] >= oracle.similarity_min if oracle.start else None
    summary = {
        "objective": obj.name, "direction": obj.direction, "method": method, "seed": seed, "batch_size": q,
        "budget": oracle.budget, "calls": oracle.calls, "repeats": oracle.repeats,
        "invalid_decodes": oracle.invalid, "stopped": stopped,
        "best_score": None if oracle.best_smiles is None else float(oracle.sign * oracle.best_value),
        "best_smiles": oracle.best_smiles,
        "auc_top10": round(top_auc(log["score"].to_numpy(float), oracle.budget, direction=obj.direction,
                                   feasible=feasible), 6),
        "seconds": round(seconds, 2),
    }
    res = OptimizeResult(log, summary)
    if oracle.start:
        start_score = None if oracle.start_value is None else float(oracle.sign * oracle.start_value)
        summary.update(start=oracle.start, start_score=start_score, similarity_min=oracle.similarity_min,
                       feasible_calls=int(feasible.sum()), below_floor=len(oracle.below),
                       below_limit=oracle.below_limit)
        summary["improvement"] = (None if start_score is None or summary["best_score"] is None
                                  else oracle.sign * (summary["best_score"] - start_score))
        best_row = log[log["smiles"] == oracle.best_smiles]
        summary["best_similarity"] = float(best_row["similarity"].iloc[0]) if len(best_row) else None
    summary["top10_mean"] = float(res.best(10)["score"].mean()) if oracle.best_smiles else None  # feasible only
    return res
