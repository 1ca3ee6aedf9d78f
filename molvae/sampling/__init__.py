"""Sampling beyond the prior draws of MolVAE.sample: property-guided sampling."""
from .._exports import lazy

EXPORTS = {
    "guided": ("ROUND", "Condition", "parse_condition", "sample_where"),
}
__all__, __getattr__, __dir__ = lazy(__name__, EXPORTS)
