"""The latent space of a MolVAE: interpolation, neighbourhoods, PCA maps."""
from .._exports import lazy

EXPORTS = {
    "space": ("path", "interpolation_table", "neighbour_latents", "pca_2d", "interpolate", "explore"),
}
__all__, __getattr__, __dir__ = lazy(__name__, EXPORTS)
