"""Deprecated: molvae.config is now molvae.train.config (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.train.config")
