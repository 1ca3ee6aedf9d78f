"""Deprecated: molvae.pools is now molvae.chem.pools (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.chem.pools")
