"""The oracle (an objective behind a cache and a budget, PMO's way of counting), PMO's top-n AUC, the result
of a run, and :class:`Search`: what every method works with (the model, the oracle, the archive of scored
latents, the random generator, the batch size and, in constrained mode, the start's latent)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..chem import mol as chem
from ..objectives.base import ObjectiveError
from ..errors import MolvaeError

FREQ_LOG = 100  # PMO logs the top-n every 100 calls


class OptimizeError(MolvaeError):
    """A user error in an optimization request (one line, no traceback)."""


class TooManyFailures(ObjectiveError):
    """The objective failed on more than the allowed share of its calls; ``result``: the run so far."""

    result = None


MIN_CALLS_FOR_SHARE = 20  # the failure share is judged from this many calls on (or the budget, if smaller)


# -- PMO's top-n AUC ---------------------------------------------------------------------------------------
def _checkpoints(n_calls: int, budget: int, every: int) -> np.ndarray:
    """Where the top-n curve is read: 0, then every ``every`` calls below min(n_calls, budget), then n_calls."""
    inner = np.arange(every, min(n_calls, budget), every) if every > 0 else np.zeros(0, dtype=int)
    return np.concatenate([[0], inner, [n_calls]]).astype(np.float64)


def _top_n_means(gains: np.ndarray, counted: np.ndarray, at: np.ndarray, top_n: int) -> np.ndarray:
    """The mean of the ``top_n`` largest counted gains among the first k calls, for each k in ``at`` (0 where
    none is counted yet; the mean of all of them while there are fewer than top_n). A min-heap keeps the top_n."""
    import heapq

    heap, means, done = [], [], 0
    for k in at.astype(int):
        for g in gains[done:k][counted[done:k]]:
            (heapq.heappush if len(heap) < top_n else heapq.heappushpop)(heap, float(g))
        done = k
        means.append(sum(heap) / len(heap) if heap else 0.0)
    return np.array(means)


def top_auc(scores, budget: int, top_n: int = 10, freq_log: int = FREQ_LOG, finish: bool = True,
            direction: str = "maximize", feasible=None) -> float:
    """PMO's top-n AUC (Gao et al., NeurIPS 2022): the area under the curve "mean of the best ``top_n`` scores
    so far" against oracle calls, divided by ``budget``.

    As PMO reads it, the curve is known at 0 (value 0), every ``freq_log`` calls below the number of calls, and
    at the last call, and joined by straight lines (the trapezoid rule); with ``finish`` a run that stopped
    before the budget keeps its last value up to the budget. Fewer than ``top_n`` scores: the mean of those
    there are. For a minimized objective the best are the lowest. ``feasible`` (a boolean mask) leaves out
    calls that do not count (constrained mode); they still take their place on the call axis.
    """
    if budget <= 0:
        raise MolvaeError("budget must be positive")
    sign = 1.0 if direction == "maximize" else -1.0
    gains = sign * np.asarray(scores, dtype=np.float64)
    counted = np.ones(len(gains), dtype=bool) if feasible is None else np.asarray(feasible, dtype=bool)
    at = _checkpoints(len(gains), budget, freq_log)
    curve = sign * _top_n_means(gains, counted, at, top_n)
    area = float(np.sum(np.diff(at) * (curve[1:] + curve[:-1]) / 2))
    if finish:
        area += max(0, budget - len(gains)) * curve[-1]
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
                 progress: bool = False, below_limit: int | None = None, max_failure_share: float = 0.5):
        self.objective, self.budget = objective, int(budget)
        self.max_failure_share = float(max_failure_share)
        self.failures, self.first_failure = 0, None  # calls the objective could not score; what went wrong first
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
        elif self._bar is not None and self._start_fp is not None:
            self._show()
        out = np.full(len(canon), np.nan)
        for i, c in enumerate(canon):
            if c is not None and c in self.cache:
                out[i] = self._target(*self.cache[c])
            elif c is not None and c in self.below:
                out[i] = self._target(-math.inf, self.below[c])
        return out

    def _values(self, new: list[str]) -> np.ndarray:
        """The objective's values of new molecules, failures (NaN, or a batch whose objective raised
        ObjectiveError) counted and given the objective's penalty."""
        try:
            raw = np.asarray(getattr(self.objective, "raw", self.objective)(new), dtype=np.float64)
        except ObjectiveError as exc:  # a user function that raised: every molecule of the batch failed
            raw = np.full(len(new), np.nan)
            self.first_failure = self.first_failure or str(exc)
        failed = np.isnan(raw)
        if failed.any():
            self.failures += int(failed.sum())
            self.first_failure = self.first_failure or f"no value for {new[int(np.argmax(failed))]}"
        return np.where(failed, getattr(self.objective, "penalty", np.nan), raw)

    def _components(self, new: list[str]) -> dict:
        """A multi-component objective's component values ({} for others, and for a batch that raised)."""
        try:
            return self.objective.components(new) if hasattr(self.objective, "components") else {}
        except ObjectiveError:
            return {}

    def check_failures(self) -> None:
        """TooManyFailures once more than ``max_failure_share`` of the calls (judged from
        MIN_CALLS_FOR_SHARE calls, or the budget if smaller) have failed."""
        if self.calls < min(MIN_CALLS_FOR_SHARE, self.budget) or self.failures <= self.max_failure_share * self.calls:
            return
        raise TooManyFailures(
            f"objective {self.objective.name!r} failed on {self.failures} of {self.calls} molecules"
            f" ({self.failures / self.calls:.0%}, more than the {self.max_failure_share:.0%} allowed by"
            f" --max-failure-share); first failure: {self.first_failure}")

    def _score(self, new: list[str], sims: np.ndarray) -> None:
        """Send new molecules to the objective; sims: their similarity to the start (ones without one)."""
        raw = self._values(new)
        comps = self._components(new)
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
            self._show()
        self.check_failures()

    def _show(self) -> None:
        """The bar's postfix: the best score so far and, in constrained mode, the decodes below the floor."""
        info = {} if self.best_smiles is None else {"best": f"{self.sign * self.best_value:.4g}"}
        if self._start_fp is not None:
            info["below_floor"] = len(self.below)
        self._bar.set_postfix(info)

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


# -- what the methods share -----------------------------------------------------------------------------
class Archive:
    """Every latent point whose decode the oracle answered: z (N, D), the internal value y (N,) and the
    decoded SMILES."""

    def __init__(self, dim: int):
        self.z, self.y, self.smiles = np.zeros((0, dim)), np.zeros(0), []

    def add(self, z, y, smiles):
        keep = ~np.isnan(y)
        self.z = np.vstack([self.z, z[keep]])
        self.y = np.concatenate([self.y, y[keep]])
        self.smiles += [s for s, k in zip(smiles, keep) if k]


@dataclass
class Search:
    """One run's state as the methods see it. ``z0``: mu(start) in constrained mode, else None."""

    vae: object
    oracle: Oracle
    archive: Archive
    rng: np.random.Generator
    q: int
    z0: np.ndarray | None = None
    seed: int = 0
    notes: dict | None = None  # what a method wants the summary to say (e.g. failed surrogate fits)
    retrainer: object = None   # a retrain.Retrainer when the model learns from the oracle during the run

    def learn(self) -> bool:
        """Between batches: fine-tune the model on what the oracle has said, when a round is due."""
        return self.retrainer is not None and self.retrainer.maybe(self)

    @property
    def dim(self) -> int:
        return self.vae.latent_dim

    def draw(self, n: int) -> np.ndarray:
        """n prior draws, or in constrained mode draws around z0 at radii uniform in (0.05, 0.6)."""
        eps = self.rng.standard_normal((n, self.dim))
        if self.z0 is None:
            return eps
        return self.z0[None] + self.rng.uniform(0.05, 0.6, size=(n, 1)) * eps

    def score_latents(self, z: np.ndarray, refill: int = 3) -> int:
        """Decode z, score the molecules and record the answered points; invalid decodes are replaced by fresh
        draws (up to ``refill`` rounds). Returns the number of new molecules (oracle calls, and molecules
        below the floor in constrained mode)."""
        oracle = self.oracle
        before = oracle.seen
        for _ in range(refill + 1):
            if oracle.exhausted or not len(z):
                break
            smiles = self.vae.decode(z.astype(np.float32), greedy=True)
            self.archive.add(z, oracle(smiles), smiles)
            bad = np.array([oracle.canonical(s) is None for s in smiles])
            z = self.draw(int(bad.sum()))
        return oracle.seen - before

    def initial(self, n: int) -> None:
        """Constrained mode: mu(start) and n draws around it (the start itself is call 1, scored before the
        method runs); otherwise n prior draws."""
        if self.z0 is not None:
            self.score_latents(self.z0[None].astype(np.float64))
        self.score_latents(self.draw(n))

    def note(self, key: str, add: int = 1) -> None:
        self.notes = self.notes or {}
        self.notes[key] = self.notes.get(key, 0) + add
