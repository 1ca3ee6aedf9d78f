"""The objective machinery: score transforms, the Objective classes (per molecule, per list, user callables),
GuacaMol's fingerprints, Tanimoto and SMARTS objectives, weighted combinations and the isomer score.

Objectives are built from these by :mod:`molvae.objectives.tasks` (the 20 PMO / GuacaMol tasks) and
:mod:`molvae.objectives` (the one entry point, ``get_objective``, and TOML files); see the latter for the
penalty rules.
"""
from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Callable, Iterable

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from ..chem import mol as chem
from ..errors import MolvaeError

INVALID_BOUNDED = 0.0  # penalty of objectives scored in [0, 1]
INVALID_UNBOUNDED = -100.0  # penalty of unbounded maximized objectives
INVALID_SA = 10.0  # penalty of sa (the worst SA score)
INVALID_MINIMIZE = 100.0  # penalty of other minimized objectives


# -- desirability transforms (GuacaMol "score modifiers") ----------------------------------------------------
class Transform:
    """A named, vectorized map from raw values to desirability: ``t(x) -> np.ndarray``."""

    def __init__(self, kind: str, fn: Callable[[np.ndarray], np.ndarray], **params):
        self.kind, self._fn, self.params = kind, fn, params

    def __call__(self, x):
        return self._fn(np.asarray(x, dtype=np.float64))

    def __repr__(self):
        return f"{self.kind}({', '.join(f'{k}={v}' for k, v in self.params.items())})"


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MolvaeError(f"transform parameter {name} must be a finite number, got {value!r}")
    return float(value)


def _positive(name: str, value) -> float:
    value = _number(name, value)
    if value <= 0:
        raise MolvaeError(f"transform parameter {name} must be > 0, got {value}")
    return value


def _gauss(x, mu, sigma):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2)


def gaussian(mu: float, sigma: float) -> Transform:
    """exp(-(x - mu)^2 / (2 sigma^2)): 1 at mu, exp(-1/2) at mu +- sigma."""
    mu, sigma = _number("mu", mu), _positive("sigma", sigma)
    return Transform("gaussian", lambda x: _gauss(x, mu, sigma), mu=mu, sigma=sigma)


def min_gaussian(mu: float, sigma: float) -> Transform:
    """Half Gaussian favouring small values: 1 for x <= mu, the Gaussian above (GuacaMol MinGaussianModifier)."""
    mu, sigma = _number("mu", mu), _positive("sigma", sigma)
    return Transform("min_gaussian", lambda x: _gauss(np.maximum(x, mu), mu, sigma), mu=mu, sigma=sigma)


def max_gaussian(mu: float, sigma: float) -> Transform:
    """Half Gaussian favouring large values: 1 for x >= mu, the Gaussian below (GuacaMol MaxGaussianModifier)."""
    mu, sigma = _number("mu", mu), _positive("sigma", sigma)
    return Transform("max_gaussian", lambda x: _gauss(np.minimum(x, mu), mu, sigma), mu=mu, sigma=sigma)


def threshold(threshold: float) -> Transform:
    """Thresholded linear: min(x, threshold) / threshold, i.e. 1 at and above the threshold."""
    t = _positive("threshold", threshold)
    return Transform("threshold", lambda x: np.minimum(x, t) / t, threshold=t)


def clipped(upper_x: float, lower_x: float = 0.0, high_score: float = 1.0, low_score: float = 0.0) -> Transform:
    """Linear from (lower_x, low_score) to (upper_x, high_score), clipped to [low_score, high_score].

    upper_x < lower_x gives a decreasing ramp (GuacaMol ClippedScoreModifier)."""
    ux, lx = _number("upper_x", upper_x), _number("lower_x", lower_x)
    hi, lo = _number("high_score", high_score), _number("low_score", low_score)
    if ux == lx or lo >= hi:
        raise MolvaeError("clipped needs upper_x != lower_x and low_score < high_score")
    slope = (hi - lo) / (ux - lx)
    return Transform("clipped", lambda x: np.clip(hi + slope * (x - ux), lo, hi),
                     upper_x=ux, lower_x=lx, high_score=hi, low_score=lo)


def sigmoid(low: float, high: float) -> Transform:
    """Logistic ramp from ~0 at ``low`` to ~1 at ``high``: 1 / (1 + exp(-10 (x - m) / (high - low))), m the
    midpoint, so 0.5 at m, 0.0067 at low and 0.9933 at high. ``low > high`` makes it decreasing."""
    lo, hi = _number("low", low), _number("high", high)
    if lo == hi:
        raise MolvaeError("sigmoid needs low != high")
    k, mid = 10.0 / (hi - lo), 0.5 * (lo + hi)
    return Transform("sigmoid", lambda x: 0.5 * (1.0 + np.tanh(0.5 * k * (x - mid))), low=lo, high=hi)


TRANSFORMS: dict[str, Callable[..., Transform]] = {
    "sigmoid": sigmoid, "gaussian": gaussian, "min_gaussian": min_gaussian, "max_gaussian": max_gaussian,
    "threshold": threshold, "clipped": clipped,
}


def make_transform(spec) -> Transform | None:
    """A Transform from None, a Transform, or a table such as ``{"kind": "gaussian", "mu": 90, "sigma": 20}``."""
    if spec is None or isinstance(spec, Transform):
        return spec
    if not isinstance(spec, dict) or "kind" not in spec:
        raise MolvaeError(f"a transform is a table with a 'kind' ({', '.join(TRANSFORMS)}), got {spec!r}")
    params = dict(spec)
    kind = params.pop("kind")
    if kind not in TRANSFORMS:
        raise MolvaeError(f"unknown transform kind {kind!r} (known: {', '.join(TRANSFORMS)})")
    sig = inspect.signature(TRANSFORMS[kind])
    try:
        sig.bind(**params)
    except TypeError:
        raise MolvaeError(f"transform {kind} takes parameters ({', '.join(sig.parameters)}), "
                          f"got ({', '.join(params)})") from None
    return TRANSFORMS[kind](**params)


# -- objectives --------------------------------------------------------------------------------------------
def _parse(smiles) -> tuple[list, list, list[int]]:
    smiles = chem.as_smiles(smiles)
    mols = [chem.to_mol(s) for s in smiles]
    return smiles, mols, [i for i, m in enumerate(mols) if m is not None]


class Objective:
    """Base class: subclasses implement ``_evaluate(smiles, mols)`` for valid molecules only and return NaN
    where a score cannot be computed; ``__call__`` gives invalid input and NaN results the penalty."""

    def __init__(self, name: str, direction: str = "maximize", penalty: float | None = None):
        if direction not in ("maximize", "minimize"):
            raise MolvaeError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
        self.name, self.direction = name, direction
        if penalty is None:
            penalty = INVALID_UNBOUNDED if direction == "maximize" else INVALID_MINIMIZE
        self.penalty = float(penalty)

    def _evaluate(self, smiles: list, mols: list) -> np.ndarray:
        raise NotImplementedError

    def _values(self, smiles: list, mols: list) -> np.ndarray:
        vals = np.asarray(self._evaluate(smiles, mols), dtype=np.float64)
        if vals.shape != (len(smiles),):
            raise MolvaeError(f"objective {self.name!r} returned {vals.size} values for {len(smiles)} molecules")
        return vals

    def raw(self, smiles) -> np.ndarray:
        """The objective's values, NaN where it could not score a molecule (invalid input, RDKit rejecting
        it, a NaN or infinite result): the failures an optimization run counts."""
        smiles, mols, ok = _parse(smiles)
        out = np.full(len(smiles), math.nan)
        if ok:
            vals = self._values([smiles[i] for i in ok], [mols[i] for i in ok])
            out[ok] = np.where(np.isfinite(vals), vals, math.nan)
        return out

    def __call__(self, smiles) -> np.ndarray:
        """The values, with the penalty where :meth:`raw` is NaN."""
        vals = self.raw(smiles)
        return np.where(np.isnan(vals), self.penalty, vals)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r} ({self.direction})>"


class MolObjective(Objective):
    """A per-molecule function ``fn(mol) -> float``. A molecule RDKit rejects while ``fn`` works on it
    (chem.is_rdkit_error) gets the penalty; any other exception (an import that fails, a bug) propagates."""

    def __init__(self, name, fn: Callable[[Chem.Mol], float], direction="maximize", penalty=None):
        super().__init__(name, direction, penalty)
        self.fn = fn

    def _evaluate(self, smiles, mols):
        out = np.empty(len(mols))
        for i, mol in enumerate(mols):
            try:
                out[i] = float(self.fn(mol))
            except Exception as exc:
                if not chem.is_rdkit_error(exc):
                    raise
                out[i] = math.nan  # one exotic molecule RDKit cannot handle must not stop a batch
        return out


class ObjectiveError(MolvaeError):
    """A user objective that failed: the run stops with its error in one line."""


class CallableObjective(Objective):
    """A user function ``fn(list_of_smiles) -> scores``. It only sees valid SMILES (the others get the
    penalty, as do NaN results). If it raises, the error stops the run (ObjectiveError, one line): a
    failing objective is a bug to report, not a molecule to penalize. Its ``direction`` and ``penalty``
    attributes are used when present."""

    def __init__(self, name, fn: Callable[[list], Iterable[float]]):
        super().__init__(name, getattr(fn, "direction", "maximize"), getattr(fn, "penalty", None))
        self.fn = fn

    def _evaluate(self, smiles, mols):
        try:
            return np.asarray(self.fn(list(smiles)), dtype=np.float64).reshape(-1)
        except Exception as exc:
            msg = str(exc).splitlines()[0] if str(exc) else ""
            raise ObjectiveError(f"objective {self.name!r} raised {type(exc).__name__}"
                                 + (f": {msg}" if msg else "")) from None


# -- fingerprints (GuacaMol's types, from RDKit's fingerprint generators) -------------------------------------
@lru_cache(maxsize=None)
def _generator(kind: str):
    g = rdFingerprintGenerator
    return {
        "ECFP4": lambda: g.GetMorganGenerator(radius=2),
        "ECFP6": lambda: g.GetMorganGenerator(radius=3),
        "FCFP4": lambda: g.GetMorganGenerator(radius=2, atomInvariantsGenerator=g.GetMorganFeatureAtomInvGen()),
        "AP": lambda: g.GetAtomPairGenerator(maxDistance=10),
        "MORGAN2_2048": lambda: g.GetMorganGenerator(radius=2, fpSize=2048),
    }[kind]()


def fingerprint(mol: Chem.Mol, kind: str):
    """GuacaMol's fingerprints: ECFP4/ECFP6/FCFP4 are unhashed Morgan count vectors (radius 2/3, FCFP with
    feature invariants), AP unhashed atom-pair counts up to distance 10, PHCO the Gobbi 2D pharmacophore
    fingerprint; MORGAN2_2048 is the 2048-bit Morgan radius-2 bit vector used by ``similarity:``."""
    if kind == "PHCO":
        from rdkit.Chem.Pharm2D import Generate, Gobbi_Pharm2D

        return Generate.Gen2DFingerprint(mol, Gobbi_Pharm2D.factory)
    if kind == "MORGAN2_2048":
        return _generator(kind).GetFingerprint(mol)
    return _generator(kind).GetSparseCountFingerprint(mol)


def _target_mol(smiles: str, what: str) -> Chem.Mol:
    mol, why = chem.check_smiles(smiles)
    if mol is None:
        raise MolvaeError(f"{what}: invalid target SMILES {smiles!r} ({why})")
    return mol


class Tanimoto(MolObjective):
    """Tanimoto similarity to a fixed target; the target fingerprint is computed once."""

    def __init__(self, target: str, fp: str = "ECFP4", name: str | None = None):
        self.target, self.fp = target, fp
        ref = fingerprint(_target_mol(target, name or "similarity"), fp)
        super().__init__(name or f"tanimoto_{fp.lower()}:{target}",
                         lambda m: DataStructs.TanimotoSimilarity(ref, fingerprint(m, fp)), penalty=INVALID_BOUNDED)


class Smarts(MolObjective):
    """1.0 if the molecule contains the SMARTS pattern, else 0.0 (``inverse`` swaps them)."""

    def __init__(self, smarts: str, inverse: bool = False, name: str | None = None):
        with chem.rdkit_quiet():  # a bad pattern is reported below in one line
            patt = Chem.MolFromSmarts(smarts) if isinstance(smarts, str) and smarts.strip() else None
        if patt is None:
            raise MolvaeError(f"invalid SMARTS {smarts!r}")
        hit, miss = (0.0, 1.0) if inverse else (1.0, 0.0)
        super().__init__(name or f"smarts:{smarts}", lambda m: hit if m.HasSubstructMatch(patt) else miss,
                         penalty=INVALID_BOUNDED)


# -- combination --------------------------------------------------------------------------------------------
@dataclass
class Component:
    """One term of a combination: an objective (or spec), its weight, an optional transform and a label."""
    objective: Objective | str
    weight: float = 1.0
    transform: Transform | dict | None = None
    label: str | None = None


def aggregate(values: np.ndarray, weights, how: str) -> np.ndarray:
    """Weighted mean over axis 0 of a (components, molecules) array: ``arithmetic`` sum(w x) / sum(w), or
    ``geometric`` prod(x ** (w / sum(w))) with negative values counted as 0 (GuacaMol's means for unit
    weights)."""
    w = np.asarray(weights, dtype=np.float64)[:, None] / np.sum(weights)
    if how == "arithmetic":
        return np.sum(w * values, axis=0)
    if how == "geometric":
        return np.prod(np.clip(values, 0.0, None) ** w, axis=0)
    raise MolvaeError(f"aggregation must be 'arithmetic' or 'geometric', got {how!r}")


class Combined(Objective):
    """Weighted arithmetic or geometric mean of transformed components (direction: maximize).

    A minimized component needs a transform that turns it into a desirability. The penalty for invalid
    molecules is the aggregate of the components' penalties (0.0 when all of them are in [0, 1])."""

    def __init__(self, name: str, components: Iterable, aggregation: str = "arithmetic",
                 resolve: Callable[[str], Objective] | None = None):
        if aggregation not in ("arithmetic", "geometric"):
            raise MolvaeError(f"{name}: aggregation must be 'arithmetic' or 'geometric', got {aggregation!r}")
        self.aggregation, self.parts, labels = aggregation, [], set()
        for c in components:
            try:
                c = c if isinstance(c, Component) else Component(*c) if isinstance(c, tuple) else Component(**c)
            except TypeError:
                raise MolvaeError(f"{name}: a component is a Component, a tuple (objective, weight, transform, "
                                  f"label) or a dict with those keys, got {c!r}") from None
            obj = c.objective
            if not isinstance(obj, Objective):
                if resolve is None:
                    raise MolvaeError(f"{name}: component {obj!r} is a spec; build it with molvae.objectives.combine")
                obj = resolve(obj)
            tf = make_transform(c.transform)
            w = c.weight
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not (math.isfinite(w) and w > 0):
                raise MolvaeError(f"{name}: component {obj.name!r} needs a weight > 0, got {w!r}")
            if obj.direction == "minimize" and tf is None:
                raise MolvaeError(f"{name}: component {obj.name!r} is minimized; give it a transform that maps it "
                                  f"to a desirability (e.g. min_gaussian, or sigmoid with low > high)")
            label = base = c.label or obj.name
            k = 2
            while label in labels:
                label, k = f"{base}#{k}", k + 1
            labels.add(label)
            self.parts.append((label, obj, float(w), tf))
        if not self.parts:
            raise MolvaeError(f"{name}: a combination needs at least one component")
        pens = np.array([[INVALID_BOUNDED if tf else obj.penalty] for _, obj, _, tf in self.parts])
        super().__init__(name, "maximize", float(aggregate(pens, [p[2] for p in self.parts], aggregation)[0]))

    def _columns(self, smiles, mols) -> np.ndarray:
        cols = []
        for _, obj, _, tf in self.parts:
            v = obj._values(smiles, mols)
            cols.append(tf(v) if tf else v)
        return np.vstack(cols)

    def _evaluate(self, smiles, mols):
        return aggregate(self._columns(smiles, mols), [p[2] for p in self.parts], self.aggregation)

    def components(self, smiles) -> dict[str, np.ndarray]:
        """Each component's score after its transform (what is aggregated); NaN for invalid molecules."""
        smiles, mols, ok = _parse(smiles)
        out = np.full((len(self.parts), len(smiles)), math.nan)
        if ok:
            out[:, ok] = self._columns([smiles[i] for i in ok], [mols[i] for i in ok])
        return {label: out[j] for j, (label, *_) in enumerate(self.parts)}


# -- GuacaMol isomer score ----------------------------------------------------------------------------------
def parse_formula(formula: str) -> dict[str, int]:
    """``"C9H10N2O2PF2Cl"`` -> {"C": 9, "H": 10, ...}; a repeated element is summed."""
    f = formula.strip() if isinstance(formula, str) else ""
    if not f or not re.fullmatch(r"(?:[A-Z][a-z]?\d*)+", f):
        raise MolvaeError(f"invalid molecular formula {formula!r}")
    counts: dict[str, int] = {}
    table = Chem.GetPeriodicTable()
    for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", f):
        try:
            table.GetAtomicNumber(el)
        except Exception:
            raise MolvaeError(f"invalid molecular formula {formula!r}: unknown element {el!r}") from None
        counts[el] = counts.get(el, 0) + (int(n) if n else 1)
    return counts


def _n_hydrogens(mol: Chem.Mol) -> int:
    return sum(a.GetTotalNumHs() + (a.GetAtomicNum() == 1) for a in mol.GetAtoms())


def _count_element(element: str, mol: Chem.Mol) -> int:
    """Atoms of one element, implicit hydrogens included (GuacaMol counts H after Chem.AddHs)."""
    if element == "H":
        return _n_hydrogens(mol)
    return sum(a.GetSymbol() == element for a in mol.GetAtoms())


def _count_atoms(mol: Chem.Mol) -> int:
    return mol.GetNumAtoms() + sum(a.GetTotalNumHs() for a in mol.GetAtoms())


class Isomer(Combined):
    """GuacaMol's isomer score for a molecular formula: the mean of a Gaussian(mu=n_target, sigma=1) of each
    target element's count and a Gaussian(mu=total, sigma=2) of the total atom count (H included); geometric
    mean by default (GuacaMol v2 and PMO), arithmetic as in GuacaMol v1. Elements absent from the formula
    only count through the total. ``total_atoms(mol)`` replaces the total atom count (the PMO-scored tasks in
    :mod:`molvae.objectives.tasks` pass PyTDC 0.3.6's count read from SMILES text)."""

    def __init__(self, formula: str, aggregation: str = "geometric", name: str | None = None,
                 total_atoms: Callable[[Chem.Mol], float] = _count_atoms):
        counts = parse_formula(formula)
        parts = [Component(MolObjective(f"n_{el}", partial(_count_element, el)), 1.0, gaussian(n, 1.0), f"n_{el}")
                 for el, n in counts.items()]
        parts.append(Component(MolObjective("n_atoms", total_atoms), 1.0, gaussian(sum(counts.values()), 2.0),
                               "n_atoms"))
        super().__init__(name or f"isomer:{formula}", parts, aggregation)
