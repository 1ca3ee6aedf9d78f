"""Deprecated: molvae.properties is now molvae.chem.properties (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.chem.properties")
