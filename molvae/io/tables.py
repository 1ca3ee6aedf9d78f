"""Molecule tables: readers chosen by extension (csv/tsv/smi/sdf/parquet, gz), streaming chunks, table writing."""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import Iterator

import pandas as pd

from . import sdf
from .atomic import atomic_path
from ..errors import MolvaeError

SMILES_NAMES = ("smiles", "canonical_smiles", "smi", "smiles_string", "mol", "molecule")


class DataError(MolvaeError):
    """A user-facing problem with an input file (missing, unreadable, no SMILES column)."""


def output_name(col: str, taken) -> str:
    """A column molvae adds, named so that it keeps an input column of the same name: itself, or
    molvae_<col> (molvae2_<col>, ...) when the input has it."""
    name, k = col, 1
    while name in taken:
        name = f"molvae{'' if k == 1 else k}_{col}"
        k += 1
    return name


def _suffixes(path: Path) -> list[str]:
    s = [x.lower() for x in path.suffixes]
    return s[:-1] if s and s[-1] == ".gz" else s


def find_smiles_column(columns, requested: str | None = None) -> str:
    cols = [str(c) for c in columns]
    if requested:
        if requested in cols:
            return requested
        raise DataError(f"column '{requested}' not found (columns: {', '.join(cols[:10])})")
    lower = {c.lower(): c for c in cols}
    for name in SMILES_NAMES:
        if name in lower:
            return lower[name]
    for c in cols:
        if "smiles" in c.lower():
            return c
    raise DataError(f"no SMILES column found (columns: {', '.join(cols[:10])}); name it with --smiles-column")


def _split_smi_line(line: str) -> tuple[str, str]:
    line = line.rstrip("\r\n")
    parts = line.split(None, 1) if line.strip() else [""]
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def _records(rows_iter, chunk_size: int) -> Iterator[pd.DataFrame]:
    rows = []
    for row in rows_iter:
        rows.append(row)
        if len(rows) == chunk_size:
            yield pd.DataFrame(rows, columns=["smiles", "name"], dtype=object)
            rows = []
    if rows:
        yield pd.DataFrame(rows, columns=["smiles", "name"], dtype=object)


def _smi_rows(path: Path):
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
        for i, line in enumerate(fh):
            row = _split_smi_line(line)
            if i == 0 and row[0].lower() in SMILES_NAMES:
                continue
            yield row


def _fail(path, exc) -> DataError:
    return DataError(f"cannot read {path}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


def iter_table(path, smiles_column: str | None = None,
               chunk_size: int = 10_000) -> tuple[str, Iterator[pd.DataFrame]]:
    """Stream a molecule file as DataFrames of at most chunk_size rows, every row kept as it is.

    The reader is chosen by extension: .csv/.tsv/.smi/.sdf (optionally .gz) and .parquet. Returns (name of
    the SMILES column, iterator of chunks). Problems that can be seen up front (missing file, unsupported
    type, no SMILES column) raise DataError here, before any chunk is read.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"file not found: {path}")
    if path.is_dir():
        raise DataError(f"expected a file, got a directory: {path}")
    kind = (_suffixes(path)[-1:] or [""])[0]
    if kind in (".csv", ".tsv"):
        def reader():
            return pd.read_csv(path, sep="\t" if kind == ".tsv" else ",", dtype=str, keep_default_na=False,
                               skip_blank_lines=False, chunksize=chunk_size, encoding_errors="replace")
        try:
            first = next(iter(reader()), None)
        except Exception as exc:
            raise _fail(path, exc) from None
        if first is None:
            raise DataError(f"{path} is empty")
        return find_smiles_column(first.columns, smiles_column), reader()
    if kind in (".smi", ".txt"):
        if smiles_column not in (None, "smiles"):
            raise DataError(f"column '{smiles_column}' not found (columns: smiles, name)")
        return "smiles", _records(_smi_rows(path), chunk_size)
    if kind == ".sdf":  # every record a row, SD tags as columns (molvae.io.sdf)
        if smiles_column not in (None, "smiles"):
            raise DataError(f"column '{smiles_column}' not found (an SD file's molecules are in: smiles)")
        return "smiles", sdf.read_chunks(path, chunk_size)
    if kind == ".parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:
            raise _fail(path, exc) from None
        col = find_smiles_column(pf.schema_arrow.names, smiles_column)
        return col, (b.to_pandas() for b in pf.iter_batches(batch_size=chunk_size))
    raise DataError(f"unsupported file type '{''.join(path.suffixes)}'"
                    " (use .csv, .tsv, .smi, .sdf, their .gz, or .parquet)")


def read_table(path, smiles_column: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a whole molecule file (see iter_table). Returns (table, name of its SMILES column)."""
    col, chunks = iter_table(path, smiles_column)
    try:
        parts = list(chunks)
    except DataError:
        raise
    except Exception as exc:
        raise _fail(path, exc) from None
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({col: []}, dtype=object)
    return df, col


def read_smiles(path, smiles_column: str | None = None) -> list[str]:
    df, col = read_table(path, smiles_column)
    return ["" if v is None else str(v) for v in df[col].tolist()]


def check_output_path(path) -> str:
    """Fail early (before any work) on an output path that cannot be written; returns its table kind."""
    path = Path(path)
    kind = (_suffixes(path)[-1:] or [""])[0]
    if kind not in (".csv", ".tsv", ".parquet", ".sdf"):
        raise DataError(f"unsupported output type '{''.join(path.suffixes)}' (use .csv, .tsv, .csv.gz, .parquet"
                        " or .sdf)")
    if not path.parent.is_dir():
        raise DataError(f"output directory does not exist: {path.parent}")
    if path.is_dir():
        raise DataError(f"output path is a directory: {path}")
    return kind


def write_table(df: pd.DataFrame, path) -> Path:
    """Write .csv/.tsv/.sdf (optionally .gz) or .parquet through a temporary file renamed into place, so an
    interrupted run never leaves a file that looks complete."""
    path = Path(path)
    kind = check_output_path(path)
    try:
        with atomic_path(path) as tmp:
            if kind != ".sdf":
                df = sdf.without_molblock(df)
            if kind == ".parquet":
                df.to_parquet(tmp, index=False)
            elif kind == ".sdf":
                sdf.write(df, tmp, gz=path.name.lower().endswith(".gz"))
            else:
                df.to_csv(tmp, index=False, sep="\t" if kind == ".tsv" else ",",
                          compression="gzip" if path.name.lower().endswith(".gz") else None)
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
