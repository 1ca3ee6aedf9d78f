"""SD files, as chemists exchange them: every record is a row (its SD tags as columns, the title as `name`);
a record RDKit cannot read is kept, with the reason in `read_error`. Writing puts each row's molecule in a
record and every other column in its tags, so nothing in a table is lost on the way out."""
from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Iterator

import pandas as pd

READ_ERROR = "read_error"  # the column that says why a record could not be read ("" when it could)
_TAG = re.compile(r"^>.*?<([^>]*)>")


def _open(path: Path, mode: str, gz: bool | None = None):
    gz = path.name.lower().endswith(".gz") if gz is None else gz
    return gzip.open(path, mode + "t", newline="") if gz else open(path, mode, newline="")


def blocks(path: Path) -> Iterator[str]:
    """The text of each record (up to its $$$$ line)."""
    with _open(path, "r") as fh:
        buf: list[str] = []
        for line in fh:
            if line.startswith("$$$$"):
                yield "".join(buf)
                buf = []
            else:
                buf.append(line)
        if "".join(buf).strip():
            yield "".join(buf)


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

    title = block.splitlines()[0].strip() if block.strip() else ""
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


def read_chunks(path: Path, chunk_size: int) -> Iterator[pd.DataFrame]:
    """Chunks with the columns smiles, name, the file's tags (a tag named like one of those gets the prefix
    sd_) and read_error."""
    names = tag_names(path)
    columns = ["smiles", "name", *[f"sd_{n}" if n in ("smiles", "name", READ_ERROR) else n for n in names],
               READ_ERROR]
    rows: list[list] = []
    for block in blocks(path):
        smi, title, why = record(block)
        t = tags(block)
        rows.append([smi, title, *[t.get(n, "") for n in names], why])
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
        raise ValueError(f"no SMILES column to write as SD records (columns: {', '.join(cols[:10])})")
    return named[0]


def write_records(df: pd.DataFrame, fh, title_column: str | None = "name") -> None:
    """Append one record per row: the molecule (an empty one where the row has none), every column as a tag."""
    from rdkit import Chem

    col = molecule_column(df.columns)
    for _, row in df.iterrows():
        smi = row[col]
        mol = Chem.MolFromSmiles(smi) if isinstance(smi, str) and smi else None
        mol = mol if mol is not None else Chem.Mol()
        title = row.get(title_column, "") if title_column in df.columns else ""
        block = Chem.MolToMolBlock(mol)
        lines = block.splitlines()
        lines[0] = "" if pd.isna(title) else str(title).splitlines()[0] if str(title) else ""
        fh.write("\n".join(lines) + "\n")
        for name, value in row.items():
            text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
            fh.write(f">  <{name}>\n{text}\n\n")
        fh.write("$$$$\n")


def write(df: pd.DataFrame, path: Path, gz: bool | None = None) -> None:
    with _open(path, "w", gz) as fh:
        write_records(df, fh)
