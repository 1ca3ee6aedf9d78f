"""Deprecated: molvae.tasks is now molvae.objectives.tasks (this alias goes in the next release)."""
from ._moved import alias

alias(__name__, "molvae.objectives.tasks")
