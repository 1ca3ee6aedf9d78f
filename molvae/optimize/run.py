"""The entry point of latent optimization: check a request, run a method, summarize the run."""
from __future__ import annotations

import inspect
import time

import numpy as np
import pandas as pd

from ..chem import mol as chem
from .bo import bo
from .gradient import gradient
from .oracle import Archive, OptimizeError, OptimizeResult, Oracle, Search, TooManyFailures, top_auc
from .retrain import OPTIONS as RETRAIN_OPTIONS
from .retrain import Retrainer, can_finetune, check_quantized


def prior_sampling(search: Search, max_stall: int = 20) -> str:
    """Prior sampling in batches (draws around the start in constrained mode): the honest baseline."""
    stall = 0
    while not search.oracle.exhausted and stall < max_stall:
        stall = 0 if search.score_latents(search.draw(search.q)) else stall + 1
    return search.oracle.stop_reason or "stalled"


METHODS = {"bo": bo, "gradient": gradient, "random": prior_sampling}
AUTO_RETRAIN_EVERY = 250  # auto's fine-tuning interval, chosen on PMO's tuning tasks (benchmarks/results/retrain_choice.md)


def resolve(method: str, start=None, retrain_every: int = 0, can_finetune: bool = True) -> tuple[str, int]:
    """What ``auto`` (the default) runs: gradient ascent with weighted retraining every AUTO_RETRAIN_EVERY
    calls (none when the model cannot be fine-tuned, e.g. int8), or bo when there is a start molecule (a
    similarity floor stalls gradient ascent: benchmarks/results/constrained_time_gradient.md); an explicit
    ``retrain_every`` is kept. Other methods are returned as they are."""
    if method != "auto":
        return method, retrain_every
    if start is not None:
        return "bo", retrain_every
    return "gradient", retrain_every or (AUTO_RETRAIN_EVERY if can_finetune else 0)


def _check_options(method: str, options: dict) -> None:
    """Refuse an option the method does not take (a misspelling would otherwise be ignored)."""
    if method not in METHODS:
        return
    known = [p for p in inspect.signature(METHODS[method]).parameters if p != "search"]
    bad = [k for k in options if k not in known]
    if bad:
        raise OptimizeError(f"method {method!r} has no option {bad[0]!r} (options: {', '.join(known)})")


def default_batch_size(method: str, budget: int) -> int:
    """random: 500 (decoding batches); bo and gradient: budget/40 clipped to [10, 100]."""
    return 500 if method == "random" else int(np.clip(budget // 40, 10, 100))


def retrainer(method: str, every: int, options: dict | None) -> Retrainer | None:
    """The fine-tuning schedule asked for (None for none), its settings checked."""
    if not every and not options:
        return None
    if method == "random":
        raise OptimizeError("retraining needs a method that searches (bo or gradient), not random")
    bad = [k for k in options or {} if k not in RETRAIN_OPTIONS]
    if bad:
        raise OptimizeError(f"retraining has no option {bad[0]!r} (options: {', '.join(RETRAIN_OPTIONS)})")
    return Retrainer(every, **(options or {}))


def check_request(objective, budget, method: str = "auto", start=None, similarity_min=None, batch_size=None,
                  allow_python: bool = False, options: dict | None = None, retrain_every: int = 0,
                  retrain_options: dict | None = None, max_failure_share: float = 0.5):
    """Validate everything that does not need the model; returns (objective, canonical start)."""
    from ..objectives.spec import get_objective

    if method not in METHODS and method != "auto":
        raise OptimizeError(f"unknown method {method!r} (choose from auto, {', '.join(METHODS)})")
    method, retrain_every = resolve(method, start, retrain_every)
    retrainer(method, retrain_every, retrain_options)
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget <= 0:
        raise OptimizeError(f"budget must be a positive whole number, got {budget!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                   or batch_size <= 0):
        raise OptimizeError(f"batch size must be a positive whole number, got {batch_size!r}")
    _check_options(method, options or {})
    if not (isinstance(max_failure_share, (int, float)) and 0.0 <= max_failure_share <= 1.0):
        raise OptimizeError(f"the share of failed objective calls allowed must be in [0, 1], got {max_failure_share!r}")
    obj = get_objective(objective, allow_python=allow_python) if isinstance(objective, str) else objective
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


def optimize(vae, objective, budget: int, method: str = "auto", start: str | None = None,
             similarity_min: float | None = None, seed: int = 0, batch_size: int | None = None,
             progress: bool = False, below_limit: int | None = None, allow_python: bool = False,
             retrain_every: int = 0, retrain_options: dict | None = None, max_failure_share: float = 0.5,
             **options) -> OptimizeResult:
    """Optimize ``objective`` (a spec for :func:`molvae.objectives.get_objective`, or an objective) over the
    latent space of ``vae`` with at most ``budget`` distinct molecules scored. ``start`` (+ ``similarity_min``,
    default 0.4 when a start is given) turns on constrained mode; ``below_limit`` bounds the free molecules below
    the floor (20 x budget by default). ``allow_python`` lets the objective name Python code (module:function).
    ``options`` go to the method (see :func:`molvae.optimize.bo.bo`, :func:`molvae.optimize.gradient.gradient`);
    an option the method does not take is refused. ``retrain_every`` > 0 fine-tunes a copy of the model on the
    molecules scored so far every that many calls (weighted retraining, :mod:`molvae.optimize.retrain`, with
    ``retrain_options``); the caller's model is never changed. Molecules the objective cannot score (NaN, an
    RDKit rejection, a user function that raised) get its penalty and are counted (``objective_failures`` in
    the summary); once more than ``max_failure_share`` of the calls have failed (judged from 20 calls on) the
    run stops with :class:`~molvae.optimize.oracle.TooManyFailures`, whose ``result`` holds the calls made."""
    import copy

    import torch

    if start is not None and similarity_min is None:
        similarity_min = 0.4
    obj, canon = check_request(objective, budget, method, start, similarity_min, batch_size, allow_python, options,
                               retrain_every, retrain_options, max_failure_share)
    requested = method
    method, retrain_every = resolve(method, start, retrain_every, can_finetune=can_finetune(vae))
    learner = retrainer(method, retrain_every, retrain_options)
    if learner is not None:
        check_quantized(vae)
        vae = copy.deepcopy(vae)  # the run fine-tunes its own copy
    z0, notes = None, ({"method_requested": "auto"} if requested == "auto" else {})
    if canon is not None:
        seqs, why = vae.tokenize([canon])
        if seqs[0] is None:
            raise OptimizeError(f"the start molecule cannot be encoded by this model ({why[0]}): {canon}")
        z0, decodes_back = vae.invert(canon)  # start inside the feasible region: a latent that decodes to it
        z0 = z0.astype(np.float64)
        notes["start_latent_decodes_to_start"] = bool(decodes_back)
    q = batch_size or default_batch_size(method, budget)
    oracle = Oracle(obj, budget, canon, similarity_min, progress, below_limit, max_failure_share)
    search = Search(vae, oracle, Archive(vae.latent_dim), np.random.default_rng(seed), q, z0, seed, notes, learner)
    t = time.time()
    try:
        if canon is not None:
            oracle([canon])  # call 1: the start's own score, the reference for the improvement
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            stopped = METHODS[method](search, **options)
    except KeyboardInterrupt:  # Ctrl-C: the calls made so far are the result, marked incomplete
        stopped = "interrupted"
    except TooManyFailures as exc:  # the calls made so far travel with the error
        exc.result = _result(oracle, method, seed, q, "objective_failures", time.time() - t, search.notes)
        raise
    finally:
        oracle.close()
    if stopped == "interrupted":
        search.notes = {**(search.notes or {}), "incomplete": True}
    if learner is not None:
        search.notes = {**(search.notes or {}), "retrain_every": learner.every, "retrain_rounds": learner.rounds}
    return _result(oracle, method, seed, q, stopped, time.time() - t, search.notes)


def _result(oracle: Oracle, method: str, seed: int, q: int, stopped: str, seconds: float,
            notes: dict | None = None) -> OptimizeResult:
    log = pd.DataFrame(oracle.rows)
    if log.empty:
        log = pd.DataFrame(columns=["call", "smiles", "score"] + (["similarity"] if oracle.start else []))
    obj = oracle.objective
    feasible = log["similarity"] >= oracle.similarity_min if oracle.start else None
    summary = {
        "objective": obj.name, "direction": obj.direction, "method": method, "seed": seed, "batch_size": q,
        "budget": oracle.budget, "calls": oracle.calls, "repeats": oracle.repeats,
        "invalid_decodes": oracle.invalid, "objective_failures": oracle.failures,
        "max_failure_share": oracle.max_failure_share, "first_failure": oracle.first_failure, "stopped": stopped,
        "best_score": None if oracle.best_smiles is None else float(oracle.sign * oracle.best_value),
        "best_smiles": oracle.best_smiles,
        "auc_top10": round(top_auc(log["score"].to_numpy(float), oracle.budget, direction=obj.direction,
                                   feasible=feasible), 6),
        "seconds": round(seconds, 2),
        **(notes or {}),
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
