"""Deprecated: molvae.guided is now molvae.sampling.guided (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.sampling.guided")
