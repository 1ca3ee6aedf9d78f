"""Data preparation: read a training file once, canonicalize, encode as SELFIES token ids (in parallel),
attach property labels, and keep the result in OUT/prepared/ (memory-mapped by the training loop)."""
from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from . import data
from ..io import tables
from ..model import tokens
from .config import TrainError
from ..io.atomic import file_sha256
from ..chem.pools import map_chunks
from ..model.tokens import Vocab


def _encode_chunk(smiles: list[str], computed=()) -> list[tuple]:
    """(canonical SMILES, SELFIES, reason) for each SMILES, plus the computed property values (NaN where
    RDKit cannot compute one)."""
    from ..chem import mol as chem, properties

    funcs = [properties.get(n) for n in computed]
    rows = []
    for s in smiles:
        canon, sf, why = tokens.canonical_selfies(s)
        vals = ()
        if funcs:
            mol = chem.to_mol(canon) if sf is not None else None
            vals = tuple(_safe(f, mol) for f in funcs)
        rows.append((canon, sf, why, vals))
    return rows


def _safe(func, mol) -> float:
    if mol is None:
        return float("nan")
    try:
        return float(func(mol))
    except Exception:  # noqa: BLE001 - a property RDKit cannot compute is a missing label, not a crash
        return float("nan")


def property_sources(columns, names) -> tuple[list[str], list[str]]:
    """Split property names into data-file columns and names molvae computes with RDKit."""
    from ..chem import properties

    cols, computed = [], []
    for n in names:
        if n in columns:
            cols.append(n)
        elif n in properties.PROPERTIES:
            computed.append(n)
        else:
            raise TrainError(f"property '{n}' is neither a column of the data file nor a property molvae computes"
                             f" ({', '.join(properties.PROPERTIES)})")
    return cols, computed


def _standardize_chunk(smiles: list[str], mode: str) -> list[str]:
    from ..chem.standardize import molecules, standardize_all

    return molecules(smiles, standardize_all(smiles, mode))


def prepare(data_path, out, smiles_column: str | None = None, vocab: Vocab | None = None, max_len: int = 0,
            workers: int = 1, log=print, properties=(), extend: bool = False,
            standardize: str = "off") -> tuple[Vocab, data.TokenizedSet]:
    """Read, canonicalize and encode a training file once, into out/prepared/ (memory-mapped afterwards).

    Reused while the data file (by sha256), the vocabulary and the settings are unchanged, so resuming or
    re-running does not re-tokenize. Rows that cannot be used are counted by reason. `properties` names the
    labels for a property head: a column of the data file (numbers; empty or non-numeric cells are missing
    values) or a property molvae computes (see molvae.chem.properties). With a `vocab` (a model's), the data may
    only use its tokens, unless `extend` appends the ones it lacks (see Vocab.extended). `standardize`
    (parent, parent+tautomer) standardizes every molecule first (molvae.chem.standardize). A `split` column
    (train / valid) fixes the validation rows (see data.carve).
    """
    prepared, sha = Path(out) / "prepared", file_sha256(data_path)
    settings = _settings(smiles_column, max_len, properties, extend, standardize)
    reused = _reuse(prepared, sha, settings, vocab, extend)
    if reused is not None:
        log(f"prepared data from {prepared}")
        return reused
    table, col = tables.read_table(data_path, smiles_column)
    valid = _valid(table, data_path) if "split" in table.columns else None  # checked before the long encoding
    smiles = ["" if v is None else str(v) for v in table[col].tolist()]
    if standardize != "off":
        log(f"standardizing {len(smiles)} molecules ({standardize})")
        parts = map_chunks(partial(_standardize_chunk, mode=standardize), smiles, 5000, workers, progress="standardize")
        smiles = [s for part in parts for s in part]
    cols, computed = property_sources(table.columns, properties)
    log(f"read {len(smiles)} rows from {data_path}; encoding as SELFIES with {workers} process(es)"
        + (f"; property labels: {', '.join(properties)}" if properties else ""))
    parts = map_chunks(partial(_encode_chunk, computed=computed), smiles, 5000, workers, progress="encode")
    encoded = [r for part in parts for r in part]
    canon = [c if s is not None else smi for (c, s, _, _), smi in zip(encoded, smiles)]
    selfies = [s for _, s, _, _ in encoded]
    props = _labels(table, properties, cols, computed, encoded) if properties else None
    del table
    good = [s for s in selfies if s]
    if not good:
        raise TrainError(f"no usable molecules in {data_path}")
    vocab = Vocab.build(good, max_len or None) if vocab is None else _fit_vocab(vocab, good, max_len, extend,
                                                                                data_path, log)
    ts = data.tokenize(canon, vocab, selfies, props, valid)  # counts the reason for every row it leaves out
    if len(ts) == 0:
        raise TrainError(f"no usable molecules in {data_path}")
    if properties:
        _check_labels(ts, properties, log)
    ts.save(prepared, vocab.tokens, sha, settings)
    ts, _ = data.TokenizedSet.load(prepared)
    return vocab, ts


def _reuse(prepared: Path, sha: str, settings: dict, vocab: Vocab | None, extend: bool):
    """(vocab, TokenizedSet) from an earlier prepare() of the same file with the same settings and a vocabulary
    that fits, or None."""
    if not (prepared / "meta.json").exists():
        return None
    try:
        ts, meta = data.TokenizedSet.load(prepared)
    except (OSError, ValueError, KeyError):
        return None
    saved = list(meta.get("vocab", []))
    same_vocab = vocab is None or saved == list(vocab.tokens) or (extend and saved[:len(vocab)] == list(vocab.tokens))
    width_ok = vocab is None or ts.ids.shape[1] == vocab.max_len or (extend and ts.ids.shape[1] > vocab.max_len)
    if meta.get("source_sha256") == sha and same_vocab and meta.get("settings") == settings and width_ok:
        return Vocab(tuple(saved), ts.ids.shape[1]), ts
    return None


def _labels(table, properties, cols, computed, encoded) -> np.ndarray:
    """Property labels, one row per molecule: numbers from the file's columns or the values computed while
    encoding; NaN where missing."""
    import pandas as pd

    props = np.full((len(encoded), len(properties)), np.nan, dtype=np.float32)
    for j, name in enumerate(properties):
        if name in cols:
            props[:, j] = pd.to_numeric(table[name], errors="coerce").to_numpy(np.float64)
        else:
            k = computed.index(name)
            props[:, j] = [r[3][k] for r in encoded]
    props[~np.isfinite(props)] = np.nan
    return props


def _valid(table, data_path) -> np.ndarray:
    """The `split` column as a mask of validation rows: "valid" (or "validation", "val") or "train", any case."""
    words = table["split"].fillna("").astype(str).str.strip().str.lower()
    bad = sorted(set(words) - {"train", "valid", "validation", "val"})
    if bad:
        raise TrainError(f"the split column of {data_path} holds {bad[0]!r}: each row must say train or valid")
    valid = words.isin(["valid", "validation", "val"]).to_numpy()
    if not valid.any() or valid.all():
        raise TrainError(f"the split column of {data_path} needs both train and valid rows")
    return valid


def _check_labels(ts: data.TokenizedSet, properties, log) -> None:
    seen = np.isfinite(ts.props).sum(0)
    log("property labels present: " + ", ".join(f"{n} {int(c)}/{len(ts)}" for n, c in zip(properties, seen)))
    if (seen < 2).any():
        raise TrainError("property " + ", ".join(n for n, c in zip(properties, seen) if c < 2)
                         + " has fewer than 2 values in the usable rows")


def _fit_vocab(vocab: Vocab, good: list[str], max_len: int, extend: bool, data_path, log) -> Vocab:
    """A model's vocabulary for this data: refused in one line when the data needs a token it lacks, unless
    `extend`, which appends the missing tokens (and lengthens the limit to the longest molecule)."""
    missing = vocab.missing(good)
    if missing and not extend:
        token, n = next(iter(missing.items()))
        more = f" ({len(missing) - 1} more missing token(s))" if len(missing) > 1 else ""
        raise TrainError(f"the model's vocabulary lacks the token {token}, which {n} molecule(s) of {data_path}"
                         f" need{more}; --extend-vocab adds the missing tokens")
    if not extend:
        return vocab
    grown = vocab.extended(good, max_len)
    if len(grown) > len(vocab) or grown.max_len != vocab.max_len:
        log(f"vocabulary extended from {len(vocab)} to {len(grown)} tokens (" + " ".join(grown.tokens[len(vocab):])
            + f"), length limit {vocab.max_len - 1} -> {grown.max_len - 1} tokens")
    return grown


def _settings(smiles_column, max_len, properties, extend=False, standardize="off") -> dict:
    d = {"smiles_column": smiles_column, "max_len": max_len or 0}
    if standardize != "off":
        d["standardize"] = standardize
    if properties:
        d["properties"] = list(properties)
    if extend:
        d["extend_vocab"] = True
    return d
