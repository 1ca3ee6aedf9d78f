"""molvae: a SELFIES GRU variational autoencoder for molecular generation.

``from molvae import MolVAE`` gives the one object users hold (see molvae.api); the rest of the package is
imported on demand, so ``import molvae`` stays cheap.
"""
__version__ = "0.1.0"
__all__ = ["MolVAE", "__version__"]


def __getattr__(name):
    if name == "MolVAE":
        from .api import MolVAE

        return MolVAE
    raise AttributeError(f"module 'molvae' has no attribute {name!r}")
