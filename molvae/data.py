"""Deprecated: molvae.data is now molvae.io.tables (readers, writers) and molvae.train.data (prepared training sets,
batches); this module goes in the next release."""
from ._moved import warn
from .io.tables import (SMILES_NAMES, DataError, check_output_path, find_smiles_column, iter_table,  # noqa: F401
                        output_name, read_smiles, read_table, write_table)
from .train.data import TokenizedSet, bucketed_batches, tokenize  # noqa: F401

warn(__name__, "molvae.io.tables and molvae.train.data")
