"""Files in and out: readers by extension, SD files, table and latent writers, atomic files, plots."""
from .._exports import lazy

EXPORTS = {
    "atomic": ("Pending", "atomic_path", "write_text", "write_json", "check_writable", "file_sha256"),
    "tables": (
        "SMILES_NAMES", "DataError", "output_name", "find_smiles_column", "iter_table", "read_table", "read_smiles",
        "check_output_path", "write_table",
    ),
    "sdf": (
        "READ_ERROR", "MOLBLOCK", "MAX_RECORD_CHARS", "blocks", "split_record", "tags", "tag_names", "record",
        "read_chunks", "molecule_column", "without_molblock", "write_records", "write",
    ),
    "writers": ("OUTPUT_TYPES", "TableWriter", "LatentWriter"),
    "plots": ("check_png", "molecule_grid", "training_curves", "latent_map"),
}
__all__, __getattr__, __dir__ = lazy(__name__, EXPORTS)
