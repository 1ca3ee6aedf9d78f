"""Deprecated: molvae.standardize is now molvae.chem.standardize (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.chem.standardize")
