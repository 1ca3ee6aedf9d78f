"""``bo``: trust-region Bayesian optimization in latent space, in the style of TuRBO (D. Eriksson, M. Pearce,
J. Gardner, R. Turner, M. Poloczek, "Scalable Global Optimization via Local Bayesian Optimization", NeurIPS
2019), with BoTorch's GP and Thompson sampling.

* Surrogate: ``SingleTaskGP`` (BoTorch's default RBF kernel with ARD and dimension-scaled priors) on the latent
  box [-bound, bound]^D mapped to the unit cube, outcomes standardized. It is fitted on a bounded subset: the
  ``n_fit`` points nearest the trust-region centre plus the ``n_top`` best points, with at most ``fit_iters``
  L-BFGS iterations warm-started from the previous fit's hyperparameters, so a fit stays around a second
  however long the run. A fit that fails keeps the previous hyperparameters and is counted in the run
  summary (``gp_fit_failures``).
* Trust region (:class:`TrustRegion`): a box centred on the best point found since the last restart, side
  ``L`` in unit-cube units, per-dimension sides scaled by the GP lengthscales over their geometric mean.
  ``success_tol`` improving batches in a row double L (up to ``length_max``); ``ceil(max(4/q, D/q))`` failing
  batches in a row halve it. When L falls below ``length_min``, or a whole batch decodes only to molecules
  already seen, the region restarts around the best point that has not yet been a collapsed centre (the data
  are kept, unlike TuRBO's fresh restarts; recentring as in CoBO, Lee et al. 2023).
* Batch acquisition: Thompson sampling without replacement over ``n_candidates`` points in the region, each
  perturbing the centre in a random ~20 of the D dimensions (the perturbation probability min(1, 20/D) of
  BoTorch's TuRBO-1 tutorial): a diverse batch of q for the price of one joint posterior draw.
* Initial design: ``n_init`` prior draws (the start molecule and draws around it in constrained mode).
* Constrained mode: a decode below the similarity floor costs no call; it joins the data (with a value below
  the start's) under the last fit's hyperparameters, which are refitted only once the oracle has answered
  again: finding the feasible region costs decodes, not surrogate fits (which were three quarters of a
  constrained run's time).

Compared with PMO's VAE-BO baseline (one global GP over the last 200 points, UCB), the trust region keeps the
search where the GP is locally accurate and where the decoder turns nearby z into related molecules.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .oracle import OptimizeError, Search


@dataclass
class TrustRegion:
    """The side of TuRBO's search box around the best point (Eriksson et al. 2019): it doubles (up to
    ``length_max``) once ``success_tol`` batches in a row have improved on ``best``, and halves once
    ``fail_tol`` batches in a row have not. ``run`` holds the outcomes (True: improved) of the batches since
    the side last changed, as long as they agree; a batch with the other outcome starts a new run.
    An improvement beats the best by more than a thousandth of its size (the threshold of TuRBO's reference
    code)."""

    length: float
    length_min: float
    length_max: float
    success_tol: int
    fail_tol: int
    run: list = field(default_factory=list)
    best: float = -math.inf  # best value seen since the region (re)started; the caller raises it to the centre's

    def improves(self, value: float) -> bool:
        return value > self.best + 1e-3 * abs(self.best)

    def update(self, batch_values: np.ndarray) -> None:
        top = max(map(float, batch_values), default=-math.inf)
        improved = self.improves(top)
        if improved:
            self.best = top
        self.run = self.run + [improved] if self.run[-1:] == [improved] else [improved]
        if len(self.run) == (self.success_tol if improved else self.fail_tol):
            self.length = min(2 * self.length, self.length_max) if improved else self.length / 2
            self.run = []

    def restart(self, length: float) -> None:
        self.length, self.run, self.best = length, [], -math.inf


def _botorch():
    try:
        from botorch.fit import fit_gpytorch_mll
        from botorch.generation import MaxPosteriorSampling
        from botorch.models import SingleTaskGP
        from botorch.models.transforms.outcome import Standardize
        from gpytorch.mlls import ExactMarginalLogLikelihood
    except ImportError:
        raise OptimizeError("method 'bo' needs BoTorch, which molvae installs: reinstall molvae (pip install botorch)") from None
    return fit_gpytorch_mll, MaxPosteriorSampling, SingleTaskGP, Standardize, ExactMarginalLogLikelihood


def _fit_gp(search: Search, x: np.ndarray, centre: int, n_fit: int, n_top: int, fit_iters: int, hyper,
            refit: bool = True):
    """A GP on the points nearest the centre and the best points, warm-started from ``hyper`` (and keeping
    them as they are unless ``refit``)."""
    import torch

    fit, _, SingleTaskGP, Standardize, MLL = _botorch()
    y = search.archive.y
    near = np.argsort(((x - x[centre]) ** 2).sum(1), kind="stable")[:n_fit]
    top = np.argsort(-y, kind="stable")[:n_top]
    idx = np.unique(np.concatenate([near, top]))
    model = SingleTaskGP(torch.tensor(x[idx], dtype=torch.float64), torch.tensor(y[idx], dtype=torch.float64)[:, None],
                         outcome_transform=Standardize(m=1))
    if hyper:  # warm start from the previous fit's hyperparameters
        model.load_state_dict(hyper, strict=False)
    try:
        if refit or not hyper:
            fit(MLL(model.likelihood, model), optimizer_kwargs={"options": {"maxiter": fit_iters}})
    except Exception:  # noqa: BLE001 - the step still proposes points with the previous hyperparameters
        search.note("gp_fit_failures")
    hyper = {k: v for k, v in model.state_dict().items() if k.startswith(("likelihood.", "mean_module.", "covar_module."))}
    return model, hyper


def region_box(centre, lengthscales, length: float):
    """TuRBO's box around ``centre`` in the unit cube: side ``length`` scaled in each dimension by its GP
    lengthscale over their geometric mean (so the box keeps the volume of a cube of side ``length``), clipped
    to the cube. Returns (lower, upper) corners."""
    import torch

    ls = torch.as_tensor(lengthscales, dtype=torch.float64).reshape(-1)
    half = length * ls / torch.exp(torch.log(ls).mean()) / 2
    c = torch.as_tensor(centre, dtype=torch.float64)
    return (c - half).clamp(0.0, 1.0), (c + half).clamp(0.0, 1.0)


def _moved_dimensions(n: int, dim: int):
    """Which coordinates each of n candidates changes: each one with probability min(1, 20/dim) (as in
    BoTorch's TuRBO-1 tutorial), and always one chosen at random, so that no candidate is the centre itself."""
    import torch

    moved = torch.rand(n, dim) <= min(1.0, 20.0 / dim)
    moved[torch.arange(n), torch.randint(0, dim, (n,))] = True
    return moved


def _candidates(model, centre: np.ndarray, length: float, sobol, n: int):
    """n points in the trust region around ``centre``: a scrambled Sobol point of the box in the coordinates
    that a candidate moves, the centre's value in the others."""
    import torch

    kernel = model.covar_module
    lower, upper = region_box(centre, getattr(kernel, "base_kernel", kernel).lengthscale.detach(), length)
    inside = lower + (upper - lower) * sobol.draw(n).to(torch.float64)
    return torch.where(_moved_dimensions(n, len(centre)), inside, torch.as_tensor(centre, dtype=torch.float64))


def bo(search: Search, n_init: int | None = None, bound: float = 4.0, n_fit: int = 300, n_top: int = 50,
       n_candidates: int = 2000, fit_iters: int = 40, length_init: float | None = None,
       length_min: float = 0.5**7, length_max: float = 1.6, success_tol: int = 3, max_stall: int = 10) -> str:
    """Trust-region BO (see the module docstring). Returns why it stopped."""
    import torch

    _, MaxPosteriorSampling, *_ = _botorch()
    oracle, archive, q, dim = search.oracle, search.archive, search.q, search.dim
    if length_init is None:
        length_init = 0.8 if search.z0 is None else 0.2
    if n_init is None:
        n_init = int(np.clip(oracle.budget // 10, 2 * q, 500))
    search.initial(n_init)
    region = TrustRegion(length_init, length_min, length_max, success_tol, math.ceil(max(4.0 / q, dim / q)))
    stall, spent, hyper = 0, set(), None  # spent: molecules that were centres of collapsed regions
    fitted_at = -1  # oracle calls at the last hyperparameter fit
    sobol = torch.quasirandom.SobolEngine(dim, scramble=True, seed=search.seed)
    with torch.random.fork_rng(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(search.seed)
        while not oracle.exhausted and stall < max_stall:
            if not len(archive.y):  # nothing answered yet (every decode invalid): more prior draws
                stall += 0 if search.score_latents(search.draw(q)) else 1
                continue
            if search.learn():  # the model was fine-tuned and the archive re-encoded: refit from scratch
                hyper, fitted_at = None, -1
            usable = np.array([s not in spent for s in archive.smiles])
            if not usable.any():
                spent.clear()
                usable[:] = True
            c = int(np.flatnonzero(usable)[np.argmax(archive.y[usable])])
            region.best = max(region.best, archive.y[c])
            x = np.clip((archive.z + bound) / (2 * bound), 0.0, 1.0)
            # hyperparameters are refitted only after the oracle has answered: below-floor decodes join the
            # data under the last fit's hyperparameters, so a search for the feasible region costs no fits
            model, hyper = _fit_gp(search, x, c, n_fit, n_top, fit_iters, hyper, refit=oracle.calls != fitted_at)
            fitted_at = oracle.calls
            cand = _candidates(model, x[c], region.length, sobol, n_candidates)
            with torch.no_grad():
                pick = MaxPosteriorSampling(model=model, replacement=False)(cand, num_samples=q)
            n_before = len(archive.y)
            new = search.score_latents(pick.numpy() * 2 * bound - bound)
            stall = 0 if new else stall + 1
            region.update(archive.y[n_before:])
            if region.length < length_min or not new:
                spent.add(archive.smiles[c])
                region.restart(length_init)
    return oracle.stop_reason or "stalled"
