"""Deprecated: molvae.distributed is now molvae.train.distributed (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.train.distributed")
