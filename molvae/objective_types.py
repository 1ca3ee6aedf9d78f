"""Deprecated: molvae.objective_types is now molvae.objectives.base (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.objectives.base")
