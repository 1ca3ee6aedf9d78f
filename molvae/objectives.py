"""Objectives for property-guided optimization: a list of SMILES in, a float64 array of scores out.

An objective is any callable ``obj(smiles: list[str]) -> np.ndarray`` (one value per input, float64) with the
attributes ``name`` and ``direction`` ("maximize" or "minimize"). Multi-component objectives also have
``components(smiles) -> dict[str, np.ndarray]`` (the per-component scores that are aggregated, after their
transforms) so that an optimizer can log them.

One entry point, :func:`get_objective`, accepts

* a built-in name: ``qed``, ``logp`` (Crippen), ``sa`` (minimize), ``plogp``, ``plogp_norm`` and the other
  properties of :mod:`molvae.properties` (``mw``, ``tpsa``, ``hbd``, ...);
* one of the 20 PMO / GuacaMol tasks listed in :data:`TASKS`;
* ``similarity:<SMILES>`` (Tanimoto on Morgan radius-2 2048-bit vectors), ``isomer:<formula>`` (GuacaMol
  isomer score), ``smarts:<SMARTS>`` (1.0 on a substructure match, else 0.0);
* a path ending in ``.toml`` (a weighted combination of components, see :func:`load_toml`);
* ``module:function``, a Python callable that takes a list of SMILES and returns one score per SMILES.

Invalid input (unparseable, unsanitizable, empty, None, too long: see :func:`molvae.chem.check_smiles`) never
raises; it gets the objective's ``penalty``:

* 0.0 for objectives scored in [0, 1] (QED, all tasks, similarity/isomer/smarts, combinations of transformed
  components; PMO and TDC score invalid molecules 0, GuacaMol itself uses -1);
* -100.0 for unbounded maximized objectives (logp, plogp, plogp_norm, mw, tpsa, ...);
* 10.0 for ``sa`` (minimized; 10 is the worst SA score) and 100.0 for other minimized objectives.

The tasks are written here from their published definitions: N. Brown, M. Fiscato, M. H. S. Segler,
A. C. Vaucher, "GuacaMol: Benchmarking Models for de Novo Molecular Design", J. Chem. Inf. Model. 59, 1096
(2019) (goal-directed suite v2: targets, fingerprints, score modifiers and means as in its reference code),
and W. Gao, T. Fu, J. Sun, C. W. Coley, "Sample Efficiency Matters: A Benchmark for Practical Molecular
Optimization", NeurIPS 2022 Datasets and Benchmarks (PMO), which uses the TDC oracles (Huang et al.,
"Therapeutics Data Commons", NeurIPS 2021) with the same definitions and geometric means.
"""
from __future__ import annotations

import importlib
import inspect
import math
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import QED, Crippen, Descriptors, rdFingerprintGenerator, rdMolDescriptors

from . import chem, properties

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
        raise ValueError(f"transform parameter {name} must be a finite number, got {value!r}")
    return float(value)


def _positive(name: str, value) -> float:
    value = _number(name, value)
    if value <= 0:
        raise ValueError(f"transform parameter {name} must be > 0, got {value}")
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
        raise ValueError("clipped needs upper_x != lower_x and low_score < high_score")
    slope = (hi - lo) / (ux - lx)
    return Transform("clipped", lambda x: np.clip(hi + slope * (x - ux), lo, hi),
                     upper_x=ux, lower_x=lx, high_score=hi, low_score=lo)


def sigmoid(low: float, high: float) -> Transform:
    """Logistic ramp from ~0 at ``low`` to ~1 at ``high``: 1 / (1 + exp(-10 (x - m) / (high - low))), m the
    midpoint, so 0.5 at m, 0.0067 at low and 0.9933 at high. ``low > high`` makes it decreasing."""
    lo, hi = _number("low", low), _number("high", high)
    if lo == hi:
        raise ValueError("sigmoid needs low != high")
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
        raise ValueError(f"a transform is a table with a 'kind' ({', '.join(TRANSFORMS)}), got {spec!r}")
    params = dict(spec)
    kind = params.pop("kind")
    if kind not in TRANSFORMS:
        raise ValueError(f"unknown transform kind {kind!r} (known: {', '.join(TRANSFORMS)})")
    sig = inspect.signature(TRANSFORMS[kind])
    try:
        sig.bind(**params)
    except TypeError:
        raise ValueError(f"transform {kind} takes parameters ({', '.join(sig.parameters)}), "
                         f"got ({', '.join(params)})") from None
    return TRANSFORMS[kind](**params)


# -- objectives --------------------------------------------------------------------------------------------
def _as_list(smiles) -> list:
    return [smiles] if isinstance(smiles, str) else list(smiles)


def _parse(smiles) -> tuple[list, list, list[int]]:
    smiles = _as_list(smiles)
    mols = [chem.to_mol(s) for s in smiles]
    return smiles, mols, [i for i, m in enumerate(mols) if m is not None]


class Objective:
    """Base class: subclasses implement ``_evaluate(smiles, mols)`` for valid molecules only and return NaN
    where a score cannot be computed; ``__call__`` gives invalid input and NaN results the penalty."""

    def __init__(self, name: str, direction: str = "maximize", penalty: float | None = None):
        if direction not in ("maximize", "minimize"):
            raise ValueError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
        self.name, self.direction = name, direction
        if penalty is None:
            penalty = INVALID_UNBOUNDED if direction == "maximize" else INVALID_MINIMIZE
        self.penalty = float(penalty)

    def _evaluate(self, smiles: list, mols: list) -> np.ndarray:
        raise NotImplementedError

    def _values(self, smiles: list, mols: list) -> np.ndarray:
        vals = np.asarray(self._evaluate(smiles, mols), dtype=np.float64)
        if vals.shape != (len(smiles),):
            raise ValueError(f"objective {self.name!r} returned {vals.size} values for {len(smiles)} molecules")
        return vals

    def __call__(self, smiles) -> np.ndarray:
        smiles, mols, ok = _parse(smiles)
        out = np.full(len(smiles), self.penalty)
        if ok:
            vals = self._values([smiles[i] for i in ok], [mols[i] for i in ok])
            out[ok] = np.where(np.isfinite(vals), vals, self.penalty)
        return out

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r} ({self.direction})>"


class MolObjective(Objective):
    """A per-molecule function ``fn(mol) -> float``; a failing molecule gets the penalty."""

    def __init__(self, name, fn: Callable[[Chem.Mol], float], direction="maximize", penalty=None):
        super().__init__(name, direction, penalty)
        self.fn = fn

    def _evaluate(self, smiles, mols):
        out = np.empty(len(mols))
        for i, mol in enumerate(mols):
            try:
                out[i] = float(self.fn(mol))
            except Exception:  # an RDKit descriptor failing on one exotic molecule must not stop a batch
                out[i] = math.nan
        return out


class CallableObjective(Objective):
    """A user function ``fn(list_of_smiles) -> scores``. It only sees valid SMILES (the others get the
    penalty); if it raises on a batch, it is called molecule by molecule and failures get the penalty.
    Its ``direction`` and ``penalty`` attributes are used when present."""

    def __init__(self, name, fn: Callable[[list], Iterable[float]]):
        super().__init__(name, getattr(fn, "direction", "maximize"), getattr(fn, "penalty", None))
        self.fn = fn

    def _one(self, s) -> float:
        try:
            return float(np.asarray(self.fn([s]), dtype=np.float64).reshape(-1)[0])
        except Exception:
            return math.nan

    def _evaluate(self, smiles, mols):
        try:
            return np.asarray(self.fn(list(smiles)), dtype=np.float64).reshape(-1)
        except Exception:
            return np.array([self._one(s) for s in smiles])


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
        raise ValueError(f"{what}: invalid target SMILES {smiles!r} ({why})")
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
        patt = Chem.MolFromSmarts(smarts) if isinstance(smarts, str) and smarts.strip() else None
        if patt is None:
            raise ValueError(f"invalid SMARTS {smarts!r}")
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
    raise ValueError(f"aggregation must be 'arithmetic' or 'geometric', got {how!r}")


class Combined(Objective):
    """Weighted arithmetic or geometric mean of transformed components (direction: maximize).

    A minimized component needs a transform that turns it into a desirability. The penalty for invalid
    molecules is the aggregate of the components' penalties (0.0 when all of them are in [0, 1])."""

    def __init__(self, name: str, components: Iterable, aggregation: str = "arithmetic", _base=None, _depth=0):
        if aggregation not in ("arithmetic", "geometric"):
            raise ValueError(f"{name}: aggregation must be 'arithmetic' or 'geometric', got {aggregation!r}")
        self.aggregation, self.parts, labels = aggregation, [], set()
        for c in components:
            try:
                c = c if isinstance(c, Component) else Component(*c) if isinstance(c, tuple) else Component(**c)
            except TypeError:
                raise ValueError(f"{name}: a component is a Component, a tuple (objective, weight, transform, "
                                 f"label) or a dict with those keys, got {c!r}") from None
            obj = c.objective if isinstance(c.objective, Objective) else _resolve(c.objective, _base, _depth + 1)
            tf = make_transform(c.transform)
            w = c.weight
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not (math.isfinite(w) and w > 0):
                raise ValueError(f"{name}: component {obj.name!r} needs a weight > 0, got {w!r}")
            if obj.direction == "minimize" and tf is None:
                raise ValueError(f"{name}: component {obj.name!r} is minimized; give it a transform that maps it "
                                 f"to a desirability (e.g. min_gaussian, or sigmoid with low > high)")
            label = base = c.label or obj.name
            k = 2
            while label in labels:
                label, k = f"{base}#{k}", k + 1
            labels.add(label)
            self.parts.append((label, obj, float(w), tf))
        if not self.parts:
            raise ValueError(f"{name}: a combination needs at least one component")
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


def combine(components: Iterable, aggregation: str = "arithmetic", name: str = "combined") -> Combined:
    """Combine :class:`Component` s (or tuples ``(objective, weight, transform, label)``, or dicts)."""
    return Combined(name, components, aggregation)


# -- GuacaMol isomer score ----------------------------------------------------------------------------------
def parse_formula(formula: str) -> dict[str, int]:
    """``"C9H10N2O2PF2Cl"`` -> {"C": 9, "H": 10, ...}; a repeated element is summed."""
    f = formula.strip() if isinstance(formula, str) else ""
    if not f or not re.fullmatch(r"(?:[A-Z][a-z]?\d*)+", f):
        raise ValueError(f"invalid molecular formula {formula!r}")
    counts: dict[str, int] = {}
    table = Chem.GetPeriodicTable()
    for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", f):
        try:
            table.GetAtomicNumber(el)
        except Exception:
            raise ValueError(f"invalid molecular formula {formula!r}: unknown element {el!r}") from None
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
    only count through the total."""

    def __init__(self, formula: str, aggregation: str = "geometric", name: str | None = None):
        counts = parse_formula(formula)
        parts = [Component(MolObjective(f"n_{el}", partial(_count_element, el)), 1.0, gaussian(n, 1.0), f"n_{el}")
                 for el, n in counts.items()]
        parts.append(Component(MolObjective("n_atoms", _count_atoms), 1.0, gaussian(sum(counts.values()), 2.0),
                               "n_atoms"))
        super().__init__(name or f"isomer:{formula}", parts, aggregation)


# -- the 20 PMO / GuacaMol v2 tasks ---------------------------------------------------------------------------
def _prop(name: str, fn) -> MolObjective:
    return MolObjective(name, fn)


def _count_f(mol):
    return _count_element("F", mol)


def _similarity_task(name, target, fp, upper):
    return Combined(name, [Component(Tanimoto(target, fp), 1.0, clipped(upper), f"similarity_{fp.lower()}")])


def _median(name, a, b, fp):
    return Combined(name, [Component(Tanimoto(a, fp), 1.0, None, "similarity_1"),
                           Component(Tanimoto(b, fp), 1.0, None, "similarity_2")], "geometric")


def _tanimoto_and(name, target, fp, extra_label, extra_fn, extra_tf):
    return Combined(name, [Component(Tanimoto(target, fp), 1.0, None, f"similarity_{fp.lower()}"),
                           Component(_prop(extra_label, extra_fn), 1.0, extra_tf, extra_label)], "geometric")


CELECOXIB = "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"
TROGLITAZONE = "Cc1c(C)c2OC(C)(COc3ccc(CC4SC(=O)NC4=O)cc3)CCc2c(C)c1O"
THIOTHIXENE = "CN(C)S(=O)(=O)c1ccc2Sc3ccccc3C(=CCCN4CCN(C)CC4)c2c1"
ALBUTEROL = "CC(C)(C)NCC(O)c1ccc(O)c(CO)c1"
MESTRANOL = "COc1ccc2[C@H]3CC[C@@]4(C)[C@@H](CC[C@@]4(O)C#C)[C@@H]3CCc2c1"
CAMPHOR, MENTHOL = "CC1(C)C2CCC1(C)C(=O)C2", "CC(C)C1CCC(C)CC1O"
TADALAFIL = "O=C1N(CC(N2C1CC3=C(C2C4=CC5=C(OCO5)C=C4)NC6=C3C=CC=C6)=O)C"
SILDENAFIL = "CCCC1=NN(C2=C1N=C(NC2=O)C3=C(C=CC(=C3)S(=O)(=O)N4CCN(CC4)C)OCC)C"
OSIMERTINIB = "COc1cc(N(C)CCN(C)C)c(NC(=O)C=C)cc1Nc2nccc(n2)c3cn(C)c4ccccc34"
FEXOFENADINE = "CC(C)(C(=O)O)c1ccc(cc1)C(O)CCCN2CCC(CC2)C(O)(c3ccccc3)c4ccccc4"
RANOLAZINE = "COc1ccccc1OCC(O)CN2CCN(CC(=O)Nc3c(C)cccc3C)CC2"
PERINDOPRIL = "O=C(OCC)C(NC(C(=O)N1C(C(=O)O)CC2CCCCC12)C)CCC"
AMLODIPINE = r"Clc1ccccc1C2C(=C(/N/C(=C2/C(=O)OCC)COCCN)C)\C(=O)OC"
SITAGLIPTIN = "Fc1cc(c(F)cc1F)CC(N)CC(=O)N3Cc2nnc(n2CC3)C(F)(F)F"
SITAGLIPTIN_VALSARTAN_TASK = "NC(CC(=O)N1CCn2c(nnc2C(F)(F)F)C1)Cc1cc(F)c(F)cc1F"  # as written in that task
ZALEPLON = "O=C(C)N(CC)C1=CC=CC(C2=CC=NC3=C(C=NN23)C#N)=C1"
VALSARTAN_SMARTS = "CN(C=O)Cc1ccc(c2ccccc2)cc1"
HOP_START = "CCCOc1cc2ncnc(Nc3ccc4ncsc4c3)c2cc1S(=O)(=O)C(C)(C)C"
HOP_SCAFFOLD = "[#7]-c1n[c;h1]nc2[c;h1]c(-[#8])[c;h0][c;h1]c12"


def _osimertinib():
    return Combined("osimertinib_mpo", [
        Component(Tanimoto(OSIMERTINIB, "FCFP4"), 1.0, clipped(0.8), "similarity_fcfp4"),
        Component(Tanimoto(OSIMERTINIB, "ECFP6"), 1.0, min_gaussian(0.85, 0.1), "not_too_similar_ecfp6"),
        Component(_prop("tpsa", Descriptors.TPSA), 1.0, max_gaussian(100, 10), "tpsa"),
        Component(_prop("logp", Crippen.MolLogP), 1.0, min_gaussian(1, 1), "logp")], "geometric")


def _fexofenadine():
    return Combined("fexofenadine_mpo", [
        Component(Tanimoto(FEXOFENADINE, "AP"), 1.0, clipped(0.8), "similarity_ap"),
        Component(_prop("tpsa", Descriptors.TPSA), 1.0, max_gaussian(90, 10), "tpsa"),
        Component(_prop("logp", Crippen.MolLogP), 1.0, min_gaussian(4, 1), "logp")], "geometric")


def _ranolazine():
    return Combined("ranolazine_mpo", [
        Component(Tanimoto(RANOLAZINE, "AP"), 1.0, clipped(0.7), "similarity_ap"),
        Component(_prop("logp", Crippen.MolLogP), 1.0, max_gaussian(7, 1), "logp"),
        Component(_prop("n_F", _count_f), 1.0, gaussian(1, 1.0), "n_F"),
        Component(_prop("tpsa", Descriptors.TPSA), 1.0, max_gaussian(95, 20), "tpsa")], "geometric")


def _sitagliptin():
    mol = _target_mol(SITAGLIPTIN, "sitagliptin_mpo")
    return Combined("sitagliptin_mpo", [
        Component(Tanimoto(SITAGLIPTIN, "ECFP4"), 1.0, gaussian(0, 0.1), "dissimilarity_ecfp4"),
        Component(_prop("logp", Crippen.MolLogP), 1.0, gaussian(Crippen.MolLogP(mol), 0.2), "logp"),
        Component(_prop("tpsa", Descriptors.TPSA), 1.0, gaussian(Descriptors.TPSA(mol), 5), "tpsa"),
        Component(Isomer("C16H15F6N5O"), 1.0, None, "isomer_C16H15F6N5O")], "geometric")


def _valsartan():
    mol = _target_mol(SITAGLIPTIN_VALSARTAN_TASK, "valsartan_smarts")
    return Combined("valsartan_smarts", [
        Component(Smarts(VALSARTAN_SMARTS), 1.0, None, "smarts"),
        Component(_prop("logp", Crippen.MolLogP), 1.0, gaussian(Crippen.MolLogP(mol), 0.2), "logp"),
        Component(_prop("tpsa", Descriptors.TPSA), 1.0, gaussian(Descriptors.TPSA(mol), 5), "tpsa"),
        Component(_prop("bertz", Descriptors.BertzCT), 1.0, gaussian(Descriptors.BertzCT(mol), 30), "bertz")],
        "geometric")


def _deco_hop():
    return Combined("deco_hop", [
        Component(Tanimoto(HOP_START, "PHCO"), 1.0, clipped(0.85), "similarity_phco"),
        Component(Smarts("CS([#6])(=O)=O", inverse=True), 1.0, None, "no_sulfone"),
        Component(Smarts("[#7]-c1ccc2ncsc2c1", inverse=True), 1.0, None, "no_benzothiazole_amine"),
        Component(Smarts(HOP_SCAFFOLD), 1.0, None, "scaffold")], "arithmetic")


def _scaffold_hop():
    return Combined("scaffold_hop", [
        Component(Tanimoto(HOP_START, "PHCO"), 1.0, clipped(0.75), "similarity_phco"),
        Component(Smarts("[#6]-[#6]-[#6]-[#8]-[#6]~[#6]~[#6]~[#6]~[#6]-[#7]-c1ccc2ncsc2c1"), 1.0, None,
                  "decoration"),
        Component(Smarts(HOP_SCAFFOLD, inverse=True), 1.0, None, "no_scaffold")], "arithmetic")


_TASK_BUILDERS: dict[str, Callable[[], Objective]] = {
    "albuterol_similarity": lambda: _similarity_task("albuterol_similarity", ALBUTEROL, "FCFP4", 0.75),
    "amlodipine_mpo": lambda: _tanimoto_and("amlodipine_mpo", AMLODIPINE, "ECFP4", "rings",
                                            rdMolDescriptors.CalcNumRings, gaussian(3, 0.5)),
    "celecoxib_rediscovery": lambda: _similarity_task("celecoxib_rediscovery", CELECOXIB, "ECFP4", 1.0),
    "deco_hop": _deco_hop,
    "fexofenadine_mpo": _fexofenadine,
    "isomers_c7h8n2o2": lambda: Isomer("C7H8N2O2", name="isomers_c7h8n2o2"),
    "isomers_c9h10n2o2pf2cl": lambda: Isomer("C9H10N2O2PF2Cl", name="isomers_c9h10n2o2pf2cl"),
    "median1": lambda: _median("median1", CAMPHOR, MENTHOL, "ECFP4"),
    "median2": lambda: _median("median2", TADALAFIL, SILDENAFIL, "ECFP6"),
    "mestranol_similarity": lambda: _similarity_task("mestranol_similarity", MESTRANOL, "AP", 0.75),
    "osimertinib_mpo": _osimertinib,
    "perindopril_mpo": lambda: _tanimoto_and("perindopril_mpo", PERINDOPRIL, "ECFP4", "aromatic_rings",
                                             rdMolDescriptors.CalcNumAromaticRings, gaussian(2, 0.5)),
    "qed": lambda: MolObjective("qed", QED.qed, penalty=INVALID_BOUNDED),
    "ranolazine_mpo": _ranolazine,
    "scaffold_hop": _scaffold_hop,
    "sitagliptin_mpo": _sitagliptin,
    "thiothixene_rediscovery": lambda: _similarity_task("thiothixene_rediscovery", THIOTHIXENE, "ECFP4", 1.0),
    "troglitazone_rediscovery": lambda: _similarity_task("troglitazone_rediscovery", TROGLITAZONE, "ECFP4", 1.0),
    "valsartan_smarts": _valsartan,
    "zaleplon_mpo": lambda: Combined("zaleplon_mpo", [
        Component(Tanimoto(ZALEPLON, "ECFP4"), 1.0, None, "similarity_ecfp4"),
        Component(Isomer("C19H17N3O2"), 1.0, None, "isomer_C19H17N3O2")], "geometric"),
}
TASKS: tuple[str, ...] = tuple(sorted(_TASK_BUILDERS))

# -- built-in single properties ------------------------------------------------------------------------------
# Normalization of penalized logP used by JT-VAE-era work (Jin et al. 2018, ICML; You et al. 2018, GCPN;
# TDC's penalized_logp): means and standard deviations of each term over ZINC250k
# (250k_rndm_zinc_drugs_clean.smi). The SA term is -SA and the cycle term is -max(largest ring - 6, 0).
PLOGP_NORM = {"logp": (2.4570953396190123, 1.434324401111988), "sa": (-3.0525811293166134, 0.8335207024513095),
              "cycle": (-0.0485696876403053, 0.2860212110245455)}


def plogp_norm_of_terms(logp, sa, cycle):
    """plogp_norm from its terms logP, SA and the ring term -max(largest ring - 6, 0): numbers or tensors
    (the gradient method builds its prior from a property head's predictions this way)."""
    terms = {"logp": logp, "sa": -sa, "cycle": cycle}
    return sum((terms[k] - m) / s for k, (m, s) in PLOGP_NORM.items())


def plogp_norm(mol: Chem.Mol) -> float:
    """Sum of the z-scored terms logP, -SA and -max(largest ring - 6, 0) (see PLOGP_NORM). Rings come from
    RDKit's ring perception (as in :func:`molvae.properties.plogp`), where the original code took the longest
    cycle of a networkx cycle basis; they agree except for rare bridged systems."""
    return plogp_norm_of_terms(Crippen.MolLogP(mol), properties.sa(mol), -max(properties.largest_ring(mol) - 6, 0))


_BUILTIN_DIRECTION = {"sa": ("minimize", INVALID_SA), "lipinski_violations": ("minimize", INVALID_MINIMIZE),
                      "qed": ("maximize", INVALID_BOUNDED)}


def _builtin(name: str) -> Objective:
    fn = plogp_norm if name == "plogp_norm" else properties.get(name)
    direction, penalty = _BUILTIN_DIRECTION.get(name, ("maximize", INVALID_UNBOUNDED))
    return MolObjective(name, fn, direction, penalty)


BUILTINS: tuple[str, ...] = ("qed", "logp", "sa", "plogp", "plogp_norm",
                             *[p for p in properties.PROPERTIES if p not in ("qed", "logp", "sa", "plogp")])
PREFIXES = {"similarity": "<SMILES>", "isomer": "<formula>", "smarts": "<SMARTS>"}
_IDENT = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"


@lru_cache(maxsize=256)
def _cached(key: str, arg: str = "") -> Objective:
    """Built-ins, tasks and prefix specs are stateless, so each is built (target fingerprints included) once."""
    if key == "similarity":
        return Tanimoto(arg, "MORGAN2_2048", name=f"similarity:{arg}")
    if key == "isomer":
        return Isomer(arg)
    if key == "smarts":
        return Smarts(arg)
    return _TASK_BUILDERS[key]() if key in _TASK_BUILDERS else _builtin(key)


def _unknown(spec) -> str:
    return (f"unknown objective {spec!r}; known: {', '.join(BUILTINS)}; tasks: {', '.join(TASKS)}; or "
            f"{', '.join(p + ':' + a for p, a in PREFIXES.items())}, <file>.toml, module:function")


def _load_callable(spec: str) -> Objective:
    module, _, attr = spec.partition(":")
    module, attr = module.strip(), attr.strip()
    try:
        obj = importlib.import_module(module)
    except Exception as exc:  # ImportError, or whatever the module raises while importing
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"objective {spec!r}: cannot import module {module!r} ({msg}); "
                         f"known prefixes: {', '.join(PREFIXES)}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"objective {spec!r}: module {module!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if isinstance(obj, Objective):
        return obj
    if not callable(obj):
        raise ValueError(f"objective {spec!r}: {attr!r} is not callable")
    return CallableObjective(spec, obj)


def _resolve(spec, base: Path | None = None, depth: int = 0) -> Objective:
    if isinstance(spec, Objective):
        return spec
    if depth > 8:
        raise ValueError("objective files nest more than 8 levels deep (a file that includes itself?)")
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"an objective spec is a non-empty string, got {spec!r}")
    s = spec.strip()
    if s.lower().endswith(".toml"):
        path = Path(s)
        return load_toml(base / path if base is not None and not path.is_absolute() else path, _depth=depth)
    if s.lower() in _TASK_BUILDERS or s.lower() in BUILTINS:
        return _cached(s.lower())
    prefix, sep, arg = s.partition(":")
    if sep and prefix.strip().lower() in PREFIXES:
        return _cached(prefix.strip().lower(), arg.strip())
    if sep and re.fullmatch(_IDENT, prefix.strip()) and re.fullmatch(_IDENT, arg.strip()):
        return _load_callable(s)
    raise ValueError(_unknown(spec))


def get_objective(spec) -> Objective:
    """The objective for a spec: a built-in name (:data:`BUILTINS`), a task (:data:`TASKS`),
    ``similarity:<SMILES>``, ``isomer:<formula>``, ``smarts:<SMARTS>``, a ``.toml`` file or
    ``module:function``. Unknown or malformed specs raise ValueError with a one-line message."""
    return _resolve(spec)


def load_toml(path, _depth: int = 0) -> Combined:
    """A user objective from a TOML file::

        name = "my_mpo"                 # default: the file's stem
        aggregation = "geometric"       # or "arithmetic" (default)
        [[component]]
        property = "qed"                # any spec get_objective accepts; a relative .toml is relative to this file
        weight = 1.0                    # > 0, default 1
        transform = { kind = "sigmoid", low = 0.3, high = 0.9 }   # optional; kinds: see TRANSFORMS
        label = "drug-likeness"         # optional; default: the property spec
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"objective file not found: {path}")
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: invalid TOML ({str(exc).splitlines()[0]})") from None
    extra = set(data) - {"name", "aggregation", "component", "description"}
    if extra:
        raise ValueError(f"{path}: unknown keys {sorted(extra)} (allowed: name, aggregation, component, description)")
    comps = data.get("component")
    if not isinstance(comps, list) or not comps or not all(isinstance(c, dict) for c in comps):
        raise ValueError(f"{path}: needs at least one [[component]] table")
    parts = []
    for i, c in enumerate(comps, 1):
        bad = set(c) - {"property", "weight", "transform", "label"}
        if bad or "property" not in c:
            raise ValueError(f"{path}: component {i} needs 'property' and allows weight, transform, label "
                             f"(unknown: {sorted(bad)})")
        parts.append(Component(c["property"], c.get("weight", 1.0), c.get("transform"), c.get("label")))
    name = data.get("name", path.stem)
    try:
        return Combined(str(name), parts, data.get("aggregation", "arithmetic"), _base=path.parent, _depth=_depth)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
