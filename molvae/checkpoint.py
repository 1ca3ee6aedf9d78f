"""Deprecated: molvae.checkpoint is now molvae.model.checkpoint (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.model.checkpoint")
