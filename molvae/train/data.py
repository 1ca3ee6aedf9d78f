"""Training data: a training set encoded once (token ids, lengths, hashes, property labels; memory-mapped from
OUT/prepared/) and the length-bucketed batches the trainer draws from it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..io.atomic import atomic_path
from ..model.tokens import Vocab


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
    valid: np.ndarray | None = None  # (N,) bool: the data file's `split` column said "valid" (see carve)

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
            if self.valid is not None:
                np.save(tmp / "valid.npy", self.valid)
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
        if (path / "valid.npy").exists():
            ts.valid = np.load(path / "valid.npy", allow_pickle=False)
        return ts, meta


def tokenize(smiles: list[str], vocab: Vocab, selfies: list[str | None] | None = None,
             props: np.ndarray | None = None, valid: np.ndarray | None = None) -> TokenizedSet:
    """Encode each SMILES; rows that fail are counted by reason and left out of the training set.
    Pass canonical SMILES (and their SELFIES, when already known) so the hashes are of canonical forms;
    `props` and `valid` (one row per SMILES) stay aligned with the rows kept."""
    from ..chem import mol as chem

    ids = np.zeros((len(smiles), vocab.max_len), dtype=np.int16)
    lengths, keep, skipped = [], [], {}
    for i, smi in enumerate(smiles):
        known = selfies is not None and selfies[i]
        seq, reason = vocab.encode_selfies(selfies[i]) if known else vocab.encode(smi)
        if seq is None:
            key = reason.split(" (")[0] if reason.startswith("too long") else reason
            skipped[key] = skipped.get(key, 0) + 1
            continue
        ids[len(keep), : len(seq)] = seq
        lengths.append(len(seq))
        keep.append(i)
    return TokenizedSet(ids[: len(keep)].copy(), np.array(lengths, dtype=np.int16),
                        chem.smiles_hashes([smiles[i] for i in keep]), skipped,
                        None if props is None else np.asarray(props, dtype=np.float32)[keep],
                        None if valid is None else np.asarray(valid, dtype=bool)[keep])


def carve(ts: TokenizedSet, seed: int, val_fraction: float, val_max: int) -> tuple[np.ndarray, np.ndarray]:
    """(validation rows, training rows). With a `split` column in the data file, its "valid" rows in file
    order (at most val_max of them scored; any beyond are not trained on either); otherwise a seeded random
    min(val_max, val_fraction * N) rows."""
    if ts.valid is not None:
        val = np.flatnonzero(ts.valid)
        return val[:val_max], np.flatnonzero(~ts.valid)
    return random_split(len(ts), seed, val_fraction, val_max)


def random_split(n: int, seed: int, val_fraction: float, val_max: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random (validation, training) split of n rows: min(val_max, val_fraction * n) validation rows."""
    perm = np.random.default_rng(seed).permutation(n)
    n_val = min(val_max, int(n * val_fraction))
    return perm[:n_val], perm[n_val:]


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
