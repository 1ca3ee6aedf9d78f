"""SD files, as chemists exchange them: every record is a row (its SD tags as columns, the title as `name`);
a record RDKit cannot read is kept, with the reason in `read_error`, and each record's molblock is kept
as it was (coordinates, hydrogens, atom order, charges, stereo). Writing puts each row's molecule in a record
(its original molblock, byte for byte, when the row came from an SD file) and every other column in its tags,
so nothing in a table is lost on the way out."""
from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Iterator

import pandas as pd
from ..errors import MolvaeError

READ_ERROR = "read_error"  # the column that says why a record could not be read ("" when it could)
MOLBLOCK = "sd_molblock"  # the record's molecule as it was in the file, written back verbatim to an SD file
MAX_RECORD_CHARS = 16 * 2**20  # a longer record (a file without $$$$ lines, say) is not held in memory
_TAG = re.compile(r"^>.*?<([^>]*)>")


def _open(path: Path, mode: str, gz: bool | None = None):
    gz = path.name.lower().endswith(".gz") if gz is None else gz
    return gzip.open(path, mode + "t", newline="") if gz else open(path, mode, newline="")


def _lines(fh, limit: int) -> Iterator[str]:
    """Lines of at most limit + 1 characters: one enormous line cannot fill memory either."""
    while line := fh.readline(limit + 1):
        yield line


def blocks(path: Path, limit: int | None = None) -> Iterator[tuple[str, bool]]:
    """(text, oversize) of each record up to its $$$$ line, streamed. A record longer than ``limit``
    (default MAX_RECORD_CHARS) characters is cut there (oversize True) and the rest skipped up to the next $$$$."""
    limit = limit or MAX_RECORD_CHARS
    with _open(path, "r") as fh:
        buf: list[str] = []
        size, oversize = 0, False
        for line in _lines(fh, limit):
            if line.startswith("$$$$"):
                yield "".join(buf), oversize
                buf, size, oversize = [], 0, False
            elif not oversize:
                size += len(line)
                oversize = size > limit
                buf.append(line[: max(0, limit - size + len(line))])
        if oversize or "".join(buf).strip():
            yield "".join(buf), oversize


def split_record(block: str) -> tuple[str, str]:
    """(molblock, data items) of a record: the molecule runs up to its 'M  END' line (inclusive); a record
    without one is all molecule up to its first tag line."""
    pos = 0
    for n, line in enumerate(block.splitlines(keepends=True)):
        pos += len(line)
        if line.startswith("M  END"):
            return block[:pos], block[pos:]
        if n >= 3 and _TAG.match(line):
            return block[: pos - len(line)], block[pos - len(line):]
    return block, ""


def tags(block: str) -> dict[str, str]:
    """SD tags of a record: '> <NAME>' lines, each followed by its value lines up to a blank line."""
    out: dict[str, str] = {}
    lines = block.splitlines()
    i = 0
    while i < len(lines):
        m = _TAG.match(lines[i])
        i += 1
        if not m:
            continue
        value = []
        while i < len(lines) and lines[i].strip():
            value.append(lines[i])
            i += 1
        out[m.group(1)] = "\n".join(value)
    return out


def tag_names(path: Path) -> list[str]:
    """Every tag name in the file, in order of first appearance (a first pass, so that every chunk has the
    same columns)."""
    names: dict[str, None] = {}
    with _open(path, "r") as fh:
        for line in fh:
            m = _TAG.match(line)
            if m:
                names.setdefault(m.group(1))
    return list(names)


def record(block: str) -> tuple[str, str, str]:
    """(SMILES, title, reason) of one record; the SMILES is written without sanitizing, so that the usual
    check (chem.check_smiles) names what is wrong with a molecule that was read."""
    from rdkit import Chem

    from ..chem.mol import rdkit_quiet

    title = block.splitlines()[0].strip() if block.strip() else ""
    with rdkit_quiet():
        mol = Chem.MolFromMolBlock(block, sanitize=False, removeHs=False, strictParsing=False) if block.strip() else None
    if mol is None:
        return "", title, "unreadable SD record"
    try:
        sane = Chem.Mol(mol)
        try:
            Chem.SanitizeMol(sane)
            mol = sane
        except Exception:  # noqa: BLE001 - kept unsanitized: the SMILES check will name the problem
            pass
        return Chem.MolToSmiles(mol), title, ""
    except Exception as exc:  # noqa: BLE001 - RDKit raises several types on broken molecules
        return "", title, f"unreadable SD record ({str(exc).splitlines()[0][:60]})"


def _columns(names: list[str]) -> list[str]:
    ours = ("smiles", "name", READ_ERROR, MOLBLOCK)
    return ["smiles", "name", *[f"sd_{n}" if n in ours else n for n in names], READ_ERROR, MOLBLOCK]


def _row(block: str, oversize: bool, names: list[str]) -> list:
    """One record as a row: smiles, name, its tags, read_error, molblock."""
    molblock, data = split_record(block)
    title = block.splitlines()[0].strip() if block.strip() else ""
    if oversize:
        why = f"unreadable SD record (over {MAX_RECORD_CHARS:,} characters; is a $$$$ line missing?)"
        return ["", title, *[""] * len(names), why, ""]
    smi, _, why = record(molblock)
    t = tags(data)
    return [smi, title, *[t.get(n, "") for n in names], why, molblock]


def read_chunks(path: Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    """Chunks with the columns smiles, name, the file's tags, read_error and molblock (a tag named like one
    of those gets the prefix sd_). Records are read one at a time, so memory stays bounded."""
    names = tag_names(path)
    columns = _columns(names)
    rows: list[list] = []
    for block, oversize in blocks(path):
        rows.append(_row(block, oversize, names))
        if len(rows) == chunk_size:
            yield pd.DataFrame(rows, columns=columns, dtype=object)
            rows = []
    if rows:
        yield pd.DataFrame(rows, columns=columns, dtype=object)


def molecule_column(columns) -> str:
    """The column whose molecules go into the records: canonical_smiles when there is one, else smiles."""
    cols = [str(c) for c in columns]
    for name in ("canonical_smiles", "smiles"):
        if name in cols:
            return name
    named = [c for c in cols if "smiles" in c.lower()]
    if not named:
        raise MolvaeError(f"no SMILES column to write as SD records (columns: {', '.join(cols[:10])})")
    return named[0]


def without_molblock(df: pd.DataFrame) -> pd.DataFrame:
    """The table as CSV and Parquet files get it: the records' molblocks stay with SD files."""
    return df.drop(columns=[MOLBLOCK]) if MOLBLOCK in df.columns else df


def _tag_text(value) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _molblock(row, col: str, title_column: str | None) -> str:
    """The record's molecule: the input's own molblock when the row came from an SD file, else one made from
    the row's SMILES (an empty molecule where it has none), titled with the row's name."""
    from rdkit import Chem

    kept = row.get(MOLBLOCK)
    if isinstance(kept, str) and kept:
        return kept if kept.endswith("\n") else kept + "\n"
    smi = row[col]
    from ..chem.mol import rdkit_quiet

    with rdkit_quiet():
        mol = Chem.MolFromSmiles(smi) if isinstance(smi, str) and smi else None
    lines = Chem.MolToMolBlock(mol if mol is not None else Chem.Mol()).splitlines()
    title = _tag_text(row.get(title_column)) if title_column else ""
    lines[0] = title.splitlines()[0] if title else ""
    return "\n".join(lines) + "\n"


def write_records(df: pd.DataFrame, fh, title_column: str | None = "name") -> None:
    """Append one record per row: its molecule (see _molblock), then every other column as a tag."""
    col = molecule_column(df.columns)
    for _, row in df.iterrows():
        fh.write(_molblock(row, col, title_column if title_column in df.columns else None))
        for name, value in row.items():
            if name != MOLBLOCK:
                fh.write(f">  <{name}>\n{_tag_text(value)}\n\n")
        fh.write("$$$$\n")


def write(df: pd.DataFrame, path: Path, gz: bool | None = None) -> None:
    with _open(path, "w", gz) as fh:
        write_records(df, fh)
