"""Deprecated: molvae.writers is now molvae.io.writers (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.io.writers")
