"""The model: SELFIES tokens, the VAE, model directories (safetensors + JSON), the learned prior, the device."""
from .._exports import lazy

EXPORTS = {
    "vae": (
        "PAD", "BOS", "EOS", "ModelConfig", "VAE", "grow_vocab", "is_quantized", "kl_per_dim", "kl_loss", "batch_loss",
        "property_loss", "active_units", "dims_above_floor",
    ),
    "tokens": (
        "SPECIALS", "PAD_ID", "BOS_ID", "EOS_ID", "canonical_selfies", "smiles_to_selfies", "split",
        "selfies_to_smiles", "selfies_rules", "smiles_of", "SmilesDecoding", "Vocab", "parent_token", "pad_batch",
    ),
    "checkpoint": (
        "FORMAT", "FORMAT_VERSION", "ModelError", "SIZE_LIMITS", "MAX_PARAMETERS", "MAX_MODEL_JSON", "check_sizes",
        "existing_dir", "model_card", "save_model", "optimizer_to_tensors", "optimizer_from_tensors", "TRAINING_SET",
        "save_training_set", "training_set_paths", "load_training_set", "BUNDLED_MODELS", "DEFAULT_MODEL",
        "bundled_models", "bundled_dir", "resolve_model_dir", "read_meta", "load_model", "load_training_state",
    ),
    "prior": ("PRIOR_WEIGHTS", "PRIOR_RECORD", "PriorError", "GaussianMixture", "fit_to_model"),
    "device": ("DEVICES", "pick_device", "bf16_autocast", "cpu_has_bf16"),
}
__all__, __getattr__, __dir__ = lazy(__name__, EXPORTS)
