"""Training: settings (TrainConfig), data preparation, the one trainer, distributed (DDP) processes."""
from .._exports import lazy

EXPORTS = {
    "trainer": (
        "TrainConfig", "TrainError", "beta_at", "parse_properties", "versions", "validate", "train", "Trainer",
        "read_metrics",
    ),
    "config": ("RENAMED", "PRESETS"),
    "prepare": ("property_sources",),
    "data": ("TokenizedSet", "tokenize", "bucketed_batches"),
    "distributed": ("Dist",),
}
__all__, __getattr__, __dir__ = lazy(__name__, EXPORTS)
