"""The old flat module paths (molvae.checkpoint, molvae.tokens, ...) kept for one release: importing one warns
and gives the module at its new home itself (so that setting an attribute through the old path still works)."""
from __future__ import annotations

import importlib
import sys
import warnings


def warn(old: str, new: str) -> None:
    warnings.warn(f"{old} moved to {new}; the old path goes in the next release", DeprecationWarning, stacklevel=3)


def alias(old: str, new: str) -> None:
    """Make the module being imported as `old` the module `new`, with a DeprecationWarning."""
    warn(old, new)
    sys.modules[old] = importlib.import_module(new)
