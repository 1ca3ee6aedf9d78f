"""Tables written chunk by chunk (CSV, TSV, SD file, their .gz, Parquet) and latents written row by row
(.npy), each to a temporary file renamed into place when complete: for commands that stream large files."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from . import sdf
from .tables import DataError, check_output_path
from .atomic import Pending, atomic_path

# The types of the columns molvae adds to a table (score, reconstruct), fixed so every chunk agrees.
OUTPUT_TYPES = {"canonical_smiles": "string", "inchikey": "string", "vae_error": "string",
               "standardized_smiles": "string", "standardization": "string", "reconstruction": "string", "stereo_removed": "bool_", "valid": "bool_", "error": "string", "pains": "string",
               "alerts": "string", "in_vocab": "bool_", "recon_exact": "bool_", "novel": "bool_",
               **{c: "float64" for c in ("mw", "logp", "qed", "sa", "tpsa", "plogp", "nll", "prior_logp")},
               **{c: "int64" for c in ("hbd", "hba", "rotatable_bonds", "rings", "lipinski_violations")}}


def _parquet_schema(df: pd.DataFrame, input_schema):
    """Types that hold for every chunk: ours are fixed, the input's come from its own schema (parquet) or are
    strings (text files); a column that is all-null in the first chunk no longer decides its type."""
    import pyarrow as pa

    inferred = pa.Schema.from_pandas(df, preserve_index=False)
    fields = []
    for name in df.columns:
        name = str(name)
        base = name.split("_", 1)[1] if name.startswith("molvae") and "_" in name else name
        if input_schema is not None and name in input_schema.names:
            fields.append(input_schema.field(name))
        elif base in OUTPUT_TYPES and (input_schema is None or name not in input_schema.names):
            fields.append(pa.field(name, getattr(pa, OUTPUT_TYPES[base])()))
        elif base.startswith("pred_"):  # the property head's predictions
            fields.append(pa.field(name, pa.float64()))
        else:
            typ = inferred.field(name).type
            fields.append(pa.field(name, pa.string() if pa.types.is_null(typ) else typ))
    return pa.schema(fields)


class TableWriter:
    """Append chunks to a temporary file; `close()` renames it into place (`abort()` removes it)."""

    def __init__(self, path, input_schema=None):
        self.input_schema = input_schema  # a parquet input's Arrow schema, so its columns keep their types
        self.path = Path(path)
        self.kind = check_output_path(self.path)
        self.out = Pending(self.path)
        self.tmp = self.out.tmp
        self._pq = self._fh = self._schema = None

    def write(self, df: pd.DataFrame) -> None:
        if self.kind != ".sdf":
            df = sdf.without_molblock(df)
        if self.kind == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._pq is None:
                self._schema = _parquet_schema(df, self.input_schema)
                self._pq = pq.ParquetWriter(self.tmp, self._schema)
            self._pq.write_table(pa.Table.from_pandas(df, schema=self._schema, preserve_index=False))
        else:
            if self._fh is None:
                gz = self.path.name.lower().endswith(".gz")
                self._fh = gzip.open(self.tmp, "wt", newline="") if gz else open(self.tmp, "w", newline="")
                header = True
            else:
                header = False
            if self.kind == ".sdf":
                sdf.write_records(df, self._fh)
            else:
                df.to_csv(self._fh, index=False, header=header, sep="\t" if self.kind == ".tsv" else ",")

    def close(self) -> None:
        if self._pq is not None:
            self._pq.close()
        if self._fh is not None:
            self._fh.close()
        if self._pq is None and self._fh is None:
            raise DataError("no rows to write")
        self.out.commit()

    def abort(self) -> None:
        for h in (self._pq, self._fh):
            try:
                if h is not None:
                    h.close()
            except Exception:
                pass
        self.out.abort()


class LatentWriter:
    """mu rows streamed to a raw temporary file, then written as one .npy aligned with the output rows."""

    def __init__(self, path, dim: int):
        self.path = Path(path)
        if self.path.suffix != ".npy":
            raise DataError(f"--latent must name a .npy file, got {self.path.name}")
        if not self.path.parent.is_dir():
            raise DataError(f"output directory does not exist: {self.path.parent}")
        self.dim, self.rows = dim, 0
        self.raw = self.path.with_name(f".{self.path.name}.raw")
        self._fh = open(self.raw, "wb")

    def write(self, mu: np.ndarray) -> None:
        self._fh.write(np.ascontiguousarray(mu, dtype=np.float32).tobytes())
        self.rows += len(mu)

    def close(self) -> None:
        self._fh.close()
        with atomic_path(self.path, suffix=".npy") as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(self.rows, self.dim))
            src = np.memmap(self.raw, dtype=np.float32, mode="r", shape=(self.rows, self.dim)) if self.rows else None
            for s in range(0, self.rows, 100_000):
                out[s : s + 100_000] = src[s : s + 100_000]
            out.flush()
            del out, src
        self.raw.unlink(missing_ok=True)

    def abort(self) -> None:
        self._fh.close()
        self.raw.unlink(missing_ok=True)
