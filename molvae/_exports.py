"""Lazy exports for the subpackages: each names its public names and the module that holds them, and a name is
imported on first use, so that ``import molvae.io`` (say) does not load matplotlib or torch up front."""
from __future__ import annotations

import importlib


def lazy(package: str, exports: dict[str, tuple[str, ...]]):
    """(__all__, __getattr__, __dir__) for `package`, whose submodule `module` holds each name in exports[module]."""
    home = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name):
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{home[name]}"), name)

    def __dir__():
        return sorted(set(home) | set(exports))

    return sorted(home), __getattr__, __dir__
