"""Deprecated: molvae.tokens is now molvae.model.tokens (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.model.tokens")
