"""Deprecated: molvae.sdf is now molvae.io.sdf (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.io.sdf")
