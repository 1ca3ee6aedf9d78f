"""Deprecated: molvae.prior is now molvae.model.prior (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.model.prior")
