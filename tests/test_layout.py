"""The package's layers as folders: imports point down only, and no two layers import each other.

Every import in molvae/ (top-level and inside functions) is read with ast, resolved to the molvae module it names,
and checked against the layer order below. The old flat module paths (molvae/checkpoint.py, ...) are one-release
aliases of the new homes: nothing inside the package may import them.
"""
import ast
import importlib
import warnings
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "molvae"

# Bottom up. `errors` and `_exports` are the base every layer may use; a name at a layer may import from its own
# layer's other units only when no cycle results (checked below).
LAYERS = [
    {"errors", "_exports"},
    {"io", "chem"},
    {"model"},
    {"train", "objectives", "metrics"},
    {"api"},
    {"sampling", "latent", "optimize", "score"},
    {"cli", "__main__"},
]
RANK = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}
MOVED = {"files", "data", "sdf", "writers", "viz", "properties", "standardize", "pools", "tokens", "checkpoint",
         "prior", "device", "config", "prepare", "distributed", "objective_types", "tasks", "guided", "_moved"}


def _module(path: Path) -> list[str]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        mod = _module(path)
        if len(mod) == 1 or (len(mod) == 2 and mod[1] in MOVED):
            continue  # molvae/__init__.py (the lazy MolVAE) and the old paths' aliases
        yield path, mod


def _imports(path: Path, mod: list[str]):
    """(target module parts, line) for every import of a molvae module in `path`."""
    package = mod if path.name == "__init__.py" else mod[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "molvae":
                    yield alias.name.split("."), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
            elif (node.module or "").split(".")[0] == "molvae":
                base = []
            else:
                continue
            base = base + (node.module.split(".") if node.module else [])
            for alias in node.names:  # `from . import chem` names a unit; `from .x import y` names x
                yield (base + [alias.name] if len(base) == 1 else base), node.lineno


def _unit(parts: list[str]) -> str:
    return parts[1] if len(parts) > 1 else "__init__"


def _edges():
    edges = []
    for path, mod in _sources():
        for target, line in _imports(path, mod):
            edges.append((_unit(mod), _unit(target), f"{path.relative_to(PACKAGE.parent)}:{line}", target))
    return edges


def test_every_unit_has_a_layer():
    units = {_unit(mod) for _, mod in _sources()}
    assert units <= set(RANK), f"modules with no layer (add them to LAYERS): {sorted(units - set(RANK))}"


def test_imports_point_down():
    upward = [f"{where}: {src} (layer {RANK[src]}) imports {'.'.join(t)} (layer {RANK[dst]})"
              for src, dst, where, t in _edges() if dst in RANK and src in RANK and RANK[dst] > RANK[src]]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_of_an_old_path():
    old = [f"{where}: imports {'.'.join(t)}" for _, dst, where, t in _edges() if dst in MOVED]
    assert not old, "imports of deprecated module paths:\n" + "\n".join(old)


def test_no_cycle_between_units():
    graph: dict[str, set[str]] = {}
    for src, dst, _, _ in _edges():
        if src != dst and dst not in ("__init__",):
            graph.setdefault(src, set()).add(dst)

    def reaches(a, b, seen=()):
        return any(n == b or (n not in seen and reaches(n, b, (*seen, n))) for n in graph.get(a, ()))

    cycles = sorted({tuple(sorted((a, b))) for a in graph for b in graph[a] if reaches(b, a)})
    assert not cycles, f"units that import each other: {cycles}"


def test_every_subpackage_says_what_it_is_and_exports_names_that_exist():
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        name = init.parent.name
        module = importlib.import_module(f"molvae.{name}")
        doc = (module.__doc__ or "").strip()
        assert doc, f"molvae/{name}/__init__.py has no docstring"
        submodules = {p.stem for p in init.parent.glob("*.py")}
        for exported in getattr(module, "__all__", []):
            # a name that is also a submodule's would be the function or the module depending on import order
            assert exported not in submodules, f"molvae.{name} exports {exported!r}, the name of its submodule"
            getattr(module, exported)


@pytest.mark.parametrize("old, new", [
    ("checkpoint", "model.checkpoint"), ("tokens", "model.tokens"), ("prior", "model.prior"),
    ("device", "model.device"), ("config", "train.config"), ("prepare", "train.prepare"),
    ("distributed", "train.distributed"), ("objective_types", "objectives.base"), ("tasks", "objectives.tasks"),
    ("properties", "chem.properties"), ("standardize", "chem.standardize"), ("pools", "chem.pools"),
    ("files", "io.atomic"), ("sdf", "io.sdf"), ("writers", "io.writers"), ("viz", "io.plots"),
    ("guided", "sampling.guided"),
])
def test_an_old_path_warns_and_is_the_new_module(old, new):
    import sys

    sys.modules.pop(f"molvae.{old}", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(f"molvae.{old}")
    assert module is importlib.import_module(f"molvae.{new}")
    assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message) for w in caught)


def test_old_data_module_keeps_its_names():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from molvae import data
    for name in ("read_smiles", "read_table", "iter_table", "write_table", "DataError", "TokenizedSet", "tokenize",
                 "bucketed_batches", "check_output_path", "output_name"):
        assert hasattr(data, name), name


def test_the_old_modules_that_became_packages_keep_their_names():
    from molvae import chem, latent, metrics, model, objectives, train

    for module, names in [(chem, ["canonical", "to_mol", "smiles_hashes", "tanimoto"]),
                          (model, ["VAE", "ModelConfig", "kl_loss", "EOS"]),
                          (train, ["train", "Trainer", "read_metrics", "TrainConfig", "TrainError"]),
                          (objectives, ["get_objective", "Objective", "TASKS", "ObjectiveError"]),
                          (metrics, ["evaluate", "filter_function"]), (latent, ["interpolate"])]:
        for name in names:
            assert getattr(module, name) is not None, (module.__name__, name)
    assert model.EOS == 2  # molvae.model.EOS was the id, as before
