"""Deprecated: molvae.viz is now molvae.io.plots (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.io.plots")
