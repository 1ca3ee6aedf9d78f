"""Deprecated: molvae.files is now molvae.io.atomic (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.io.atomic")
