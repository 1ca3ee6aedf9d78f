"""Deprecated: molvae.prepare is now molvae.train.prepare (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.train.prepare")
