"""Deprecated: molvae.device is now molvae.model.device (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.model.device")
