"""Objectives for property-guided optimization: a list of SMILES in, a float64 array of scores out.

An objective is any callable ``obj(smiles: list[str]) -> np.ndarray`` (one value per input, float64) with the
attributes ``name`` and ``direction`` ("maximize" or "minimize"). Multi-component objectives also have
``components(smiles) -> dict[str, np.ndarray]`` (the per-component scores that are aggregated, after their
transforms) so that an optimizer can log them.

One entry point, :func:`get_objective`, accepts

* a built-in name: ``qed``, ``logp`` (Crippen), ``sa`` (minimize), ``plogp``, ``plogp_norm`` and the other
  properties of :mod:`molvae.chem.properties` (``mw``, ``tpsa``, ``hbd``, ...);
* one of the 20 PMO / GuacaMol tasks listed in :data:`TASKS`, or one of :data:`PMO_VARIANTS` (four of them as
  PyTDC 0.3.6, which PMO ran, scored them; see :mod:`molvae.objectives.tasks`);
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

So does a valid molecule that RDKit rejects while an objective works on it (a sanitization error or one of
RDKit's invariant checks). Any other exception inside an objective (an import that fails, a bug) is raised,
never turned into penalty scores.

The tasks are written here from their published definitions: N. Brown, M. Fiscato, M. H. S. Segler,
A. C. Vaucher, "GuacaMol: Benchmarking Models for de Novo Molecular Design", J. Chem. Inf. Model. 59, 1096
(2019) (goal-directed suite v2: targets, fingerprints, score modifiers and means as in its reference code),
and W. Gao, T. Fu, J. Sun, C. W. Coley, "Sample Efficiency Matters: A Benchmark for Practical Molecular
Optimization", NeurIPS 2022 Datasets and Benchmarks (PMO), which uses the TDC oracles (Huang et al.,
"Therapeutics Data Commons", NeurIPS 2021) with the same definitions and geometric means.
"""
from __future__ import annotations

import importlib
import re
from functools import lru_cache, partial
from pathlib import Path

import tomllib
from rdkit import Chem
from rdkit.Chem import Crippen

from ..chem import properties
from .base import (  # noqa: F401  (the objective machinery, re-exported: molvae.objectives is the API)
    INVALID_BOUNDED, INVALID_MINIMIZE, INVALID_SA, INVALID_UNBOUNDED, TRANSFORMS, CallableObjective, Combined,
    ObjectiveError,
    Component, Isomer, MolObjective, Objective, Smarts, Tanimoto, Transform, aggregate, clipped, fingerprint,
    gaussian, make_transform, max_gaussian, min_gaussian, parse_formula, sigmoid, threshold)
from .tasks import BUILDERS, PMO_VARIANTS, TASKS
from ..errors import MolvaeError

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
    RDKit's ring perception (as in :func:`molvae.chem.properties.plogp`), where the original code took the longest
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
    return BUILDERS[key]() if key in BUILDERS else _builtin(key)


def _unknown(spec) -> str:
    return (f"unknown objective {spec!r}; known: {', '.join(BUILTINS)}; tasks: {', '.join(TASKS + PMO_VARIANTS)}; or "
            f"{', '.join(p + ':' + a for p, a in PREFIXES.items())}, <file>.toml, module:function")


def _load_callable(spec: str, allow_python: bool) -> Objective:
    """A Python callable named module:function. Importing a module runs its code, so this needs the caller's
    explicit consent (``allow_python``; ``--allow-python`` on the command line)."""
    if not allow_python:
        raise MolvaeError(f"objective {spec!r} names Python code (module:function), which runs only with"
                          " --allow-python (allow_python=True in the API)")
    module, _, attr = spec.partition(":")
    module, attr = module.strip(), attr.strip()
    try:
        obj = importlib.import_module(module)
    except Exception as exc:  # ImportError, or whatever the module raises while importing
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MolvaeError(f"objective {spec!r}: cannot import module {module!r} ({msg}); "
                          f"known prefixes: {', '.join(PREFIXES)}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise MolvaeError(f"objective {spec!r}: module {module!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if isinstance(obj, Objective):
        return obj
    if not callable(obj):
        raise MolvaeError(f"objective {spec!r}: {attr!r} is not callable")
    return CallableObjective(spec, obj)


def _resolve(spec, base: Path | None = None, depth: int = 0, allow_python: bool = False) -> Objective:
    if isinstance(spec, Objective):
        return spec
    if depth > 8:
        raise MolvaeError("objective files nest more than 8 levels deep (a file that includes itself?)")
    if not isinstance(spec, str) or not spec.strip():
        raise MolvaeError(f"an objective spec is a non-empty string, got {spec!r}")
    s = spec.strip()
    if s.lower().endswith(".toml"):
        path = Path(s)
        return load_toml(base / path if base is not None and not path.is_absolute() else path,
                         allow_python=allow_python, _depth=depth)
    if s.lower() in BUILDERS or s.lower() in BUILTINS:
        return _cached(s.lower())
    prefix, sep, arg = s.partition(":")
    if sep and prefix.strip().lower() in PREFIXES:
        return _cached(prefix.strip().lower(), arg.strip())
    if sep and re.fullmatch(_IDENT, prefix.strip()) and re.fullmatch(_IDENT, arg.strip()):
        return _load_callable(s, allow_python)
    raise MolvaeError(_unknown(spec))


def get_objective(spec, allow_python: bool = False) -> Objective:
    """The objective for a spec: a built-in name (:data:`BUILTINS`), a task (:data:`TASKS`, :data:`PMO_VARIANTS`),
    ``similarity:<SMILES>``, ``isomer:<formula>``, ``smarts:<SMARTS>``, a ``.toml`` file or
    ``module:function``. Python code (``module:function``, here or in a TOML file) is refused unless
    ``allow_python``. Unknown or malformed specs raise ValueError with a one-line message."""
    return _resolve(spec, allow_python=allow_python)


def combine(components, aggregation: str = "arithmetic", name: str = "combined",
            allow_python: bool = False) -> Combined:
    """Combine :class:`Component` s (or tuples ``(objective, weight, transform, label)``, or dicts); an
    objective may be a spec for :func:`get_objective`."""
    return Combined(name, components, aggregation, resolve=partial(_resolve, allow_python=allow_python))


def load_toml(path, allow_python: bool = False, _depth: int = 0) -> Combined:
    """A user objective from a TOML file::

        name = "my_mpo"                 # default: the file's stem
        aggregation = "geometric"       # or "arithmetic" (default)
        [[component]]
        property = "qed"                # any spec get_objective accepts; a relative .toml is relative to this file
        weight = 1.0                    # > 0, default 1
        transform = { kind = "sigmoid", low = 0.3, high = 0.9 }   # optional; kinds: see TRANSFORMS
        label = "drug-likeness"         # optional; default: the property spec

    A component naming Python code (``module:function``) is refused unless ``allow_python``.
    """
    path = Path(path)
    if not path.is_file():
        raise MolvaeError(f"objective file not found: {path}")
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MolvaeError(f"{path}: invalid TOML ({str(exc).splitlines()[0]})") from None
    extra = set(data) - {"name", "aggregation", "component", "description"}
    if extra:
        raise MolvaeError(f"{path}: unknown keys {sorted(extra)} (allowed: name, aggregation, component, description)")
    comps = data.get("component")
    if not isinstance(comps, list) or not comps or not all(isinstance(c, dict) for c in comps):
        raise MolvaeError(f"{path}: needs at least one [[component]] table")
    parts = []
    for i, c in enumerate(comps, 1):
        bad = set(c) - {"property", "weight", "transform", "label"}
        if bad or "property" not in c:
            raise MolvaeError(f"{path}: component {i} needs 'property' and allows weight, transform, label "
                              f"(unknown: {sorted(bad)})")
        parts.append(Component(c["property"], c.get("weight", 1.0), c.get("transform"), c.get("label")))
    name = data.get("name", path.stem)
    resolve = partial(_resolve, base=path.parent, depth=_depth + 1, allow_python=allow_python)
    try:
        return Combined(str(name), parts, data.get("aggregation", "arithmetic"), resolve=resolve)
    except MolvaeError as exc:
        raise MolvaeError(f"{path}: {exc}") from None
