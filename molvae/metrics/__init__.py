"""Generation metrics: MOSES-style metrics, FCD, filters, reference statistics."""
from .._exports import lazy

EXPORTS = {
    "moses": (
        "REFERENCE_DIR", "CACHE_DIR", "PROPERTY_METRICS", "N_QUANTILES", "canonical_valid", "training_hashes",
        "unique_at", "novelty", "heavy_atoms_and_aromatic_share", "BLOCK", "morgan_fps", "tanimoto",
        "nearest_similarity", "power_mean_similarity", "internal_diversity", "snn", "brics_pieces", "ring_scaffold",
        "fragments", "scaffolds", "cos_similarity", "ALLOWED_ATOMS", "LARGEST_RING", "passes_filters",
        "filter_function", "chemnet_activations", "fcd_stats", "trace_sqrt_product", "frechet_distance", "fcd",
        "sample_scores", "wasserstein", "Reference", "evaluate", "plot_properties",
    ),
}
__all__, __getattr__, __dir__ = lazy(__name__, EXPORTS)
