"""Chemistry, RDKit in one place: parsing, canonical SMILES, validity with a reason, properties, standardization."""
from .._exports import lazy

EXPORTS = {
    "mol": (
        "MAX_SMILES_CHARS", "rdkit_quiet", "check_smiles", "is_rdkit_error", "as_smiles", "to_mol", "canonical",
        "has_stereo", "without_stereo", "mol_to_smiles", "has_aromatic_ring", "smiles_hashes", "not_in_hashes",
        "morgan_generator", "morgan_fp", "tanimoto",
    ),
    "properties": ("sa", "largest_ring", "plogp", "lipinski_violations", "PROPERTIES", "get", "alerts"),
    "standardize": ("MODES", "COLUMNS", "check_mode", "standardize_all", "molecules", "apply"),
    "pools": ("Done", "start_method", "process_pool", "map_chunks", "available_cpus"),
}
__all__, __getattr__, __dir__ = lazy(__name__, EXPORTS)
