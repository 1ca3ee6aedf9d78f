"""Reading molecule files (reader chosen by extension) and length-bucketed batches for training."""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from . import sdf
from .files import atomic_path
from .tokens import Vocab
from .errors import MolvaeError

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
    if kind == ".sdf":  # every record a row, SD tags as columns (molvae.sdf)
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


@dataclass
class TokenizedSet:
    """Token ids (rows padded with 0) and lengths (including <eos>) of the molecules that encoded, with 64-bit
    hashes of their SMILES (for novelty checks) and the count of left-out rows by reason. The arrays may be
    memory-mapped (see save/load), so a large set is streamed from disk rather than held in memory."""

    ids: np.ndarray       # (N, max_len) int16
    lengths: np.ndarray   # (N,) int16
    hashes: np.ndarray    # (N,) uint64
    skipped: dict         # reason -> count
    props: np.ndarray | None = None  # (N, K) float32 property labels, NaN where missing

    def __len__(self) -> int:
        return len(self.lengths)

    def save(self, path, vocab_tokens, source_sha256: str, settings: dict | None = None) -> None:
        """Write a prepared directory: ids.npy, lengths.npy, hashes.npy, meta.json (renamed into place)."""
        import json

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.mkdir()
            np.save(tmp / "ids.npy", self.ids)
            np.save(tmp / "lengths.npy", self.lengths)
            np.save(tmp / "hashes.npy", self.hashes)
            if self.props is not None:
                np.save(tmp / "props.npy", self.props)
            (tmp / "meta.json").write_text(json.dumps({"vocab": list(vocab_tokens), "source_sha256": source_sha256,
                                                       "skipped": self.skipped, "rows": len(self),
                                                       "settings": settings or {}}))

    @classmethod
    def load(cls, path) -> tuple["TokenizedSet", dict]:
        import json

        path = Path(path)
        meta = json.loads((path / "meta.json").read_text())
        ts = cls(np.load(path / "ids.npy", mmap_mode="r", allow_pickle=False),
                 np.load(path / "lengths.npy", allow_pickle=False),
                 np.load(path / "hashes.npy", allow_pickle=False), meta["skipped"])
        if (path / "props.npy").exists():
            ts.props = np.load(path / "props.npy", allow_pickle=False)
        return ts, meta


def tokenize(smiles: list[str], vocab: Vocab, selfies: list[str | None] | None = None,
             props: np.ndarray | None = None) -> TokenizedSet:
    """Encode each SMILES; rows that fail are counted by reason and left out of the training set.
    Pass canonical SMILES (and their SELFIES, when already known) so the hashes are of canonical forms;
    `props` (one row per SMILES) stays aligned with the rows kept."""
    from . import chem, tokens

    ids = np.zeros((len(smiles), vocab.max_len), dtype=np.int16)
    lengths, keep, skipped = [], [], {}
    for i, smi in enumerate(smiles):
        s, reason = (selfies[i], "") if selfies is not None and selfies[i] else tokens.smiles_to_selfies(smi)
        seq = None
        if s is not None:
            seq, reason = vocab.encode_selfies(s)
        if seq is None:
            key = reason.split(" (")[0] if reason.startswith("too long") else reason
            skipped[key] = skipped.get(key, 0) + 1
            continue
        ids[len(keep), : len(seq)] = seq
        lengths.append(len(seq))
        keep.append(i)
    return TokenizedSet(ids[: len(keep)].copy(), np.array(lengths, dtype=np.int16),
                        chem.smiles_hashes([smiles[i] for i in keep]), skipped,
                        None if props is None else np.asarray(props, dtype=np.float32)[keep])


def bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator,
                     pool: int = 64) -> list[np.ndarray]:
    """Shuffle, sort by length within pools of `pool` batches, cut into batches, shuffle the batches.

    Each batch holds molecules of nearly equal length, so padding (wasted compute) stays small while the
    order of batches stays random from epoch to epoch.
    """
    order = rng.permutation(len(lengths))
    batches = []
    chunk = batch_size * pool
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


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
