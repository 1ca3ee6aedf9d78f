"""The old flat module paths (molvae.checkpoint, molvae.tokens, ...) kept for one release: importing one warns
and gives the module at its new home itself (so that setting an attribute through the old path still works)."""
from __future__ import annotations

import importlib
import sys
import warnings


def warn(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn at the line that imported `old` (the import machinery's frames are skipped)."""
    warnings.warn(f"{old} moved to {new}; the old path goes in the next release", DeprecationWarning,
                  stacklevel=stacklevel)


def alias(old: str, new: str) -> None:
    """Make the module being imported as `old` the module `new`, with a DeprecationWarning."""
    warn(old, new, stacklevel=4)
    sys.modules[old] = importlib.import_module(new)
