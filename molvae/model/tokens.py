"""SELFIES vocabulary: SMILES -> canonical SMILES -> SELFIES -> token ids, and back.

The vocabulary is data, saved with every model, so a model keeps working when the selfies or RDKit
version changes: its alphabet never comes from the library at load time.
"""
from __future__ import annotations

import re
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import selfies as sf

from ..chem import mol as chem
from ..chem.pools import Done, process_pool
from ..errors import MolvaeError

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
SPECIALS = (PAD, BOS, EOS)
PAD_ID, BOS_ID, EOS_ID = 0, 1, 2  # the special tokens' ids: every vocabulary starts with them


def canonical_selfies(smiles) -> tuple[str | None, str | None, str]:
    """Canonicalize with RDKit, then encode as SELFIES: (canonical, selfies, "") or (canonical?, None, reason)."""
    mol, reason = chem.check_smiles(smiles)
    if mol is None:
        return None, None, reason
    canon = chem.mol_to_smiles(mol)
    try:
        with selfies_rules():
            return canon, sf.encoder(canon, strict=True), ""
    except Exception:  # selfies raises EncoderError, and others for exotic inputs
        return canon, None, "selfies cannot encode"


def smiles_to_selfies(smiles) -> tuple[str | None, str]:
    """Canonicalize with RDKit, then encode as SELFIES. Returns (selfies, "") or (None, reason)."""
    _, s, reason = canonical_selfies(smiles)
    return s, reason


def split(selfies_str: str) -> list[str]:
    return list(sf.split_selfies(selfies_str))


def selfies_to_smiles(selfies_str: str) -> str | None:
    """Decode SELFIES and canonicalize with RDKit; None when RDKit rejects the result."""
    try:
        with selfies_rules():
            smi = sf.decoder(selfies_str)
    except Exception:
        return None
    return chem.canonical(smi) if smi else None


_active_rules: str | None = None  # the rules selfies_rules has set, while inside it


def _rules(relaxed: bool) -> dict:
    """SELFIES's default valence rules; relaxed: one bond more on every atom."""
    base = sf.get_preset_constraints("default")
    return {k: v + 1 for k, v in base.items() if k != "?"} | {"?": 8} if relaxed else base


@contextmanager
def selfies_rules(relaxed: bool | None = None):
    """Within this block SELFIES follows molvae's valence rules, whatever the host process has set: SELFIES's
    default ones, or with ``relaxed`` one bond more than usual on every atom, so a decoder mistake that would
    be silently repaired becomes an over-bonded atom that RDKit rejects (Skinnider 2024) and the RDKit check
    works as a quality filter; None: the rules of the enclosing block, else the default ones. The caller's
    rules are restored after (SELFIES keeps them process-wide); a block inside one with the same rules costs
    nothing."""
    global _active_rules
    mode = (_active_rules or "default") if relaxed is None else ("relaxed" if relaxed else "default")
    if _active_rules == mode:
        yield
        return
    saved, outer = sf.get_semantic_constraints(), _active_rules
    sf.set_semantic_constraints(_rules(mode == "relaxed"))
    _active_rules = mode
    try:
        yield
    finally:
        sf.set_semantic_constraints(saved)
        _active_rules = outer


def smiles_of(selfies: list, relaxed: bool = False) -> list:
    """selfies_to_smiles of each string ('' gives None), under relaxed valence rules when asked."""
    with selfies_rules(bool(relaxed)), chem.rdkit_quiet():
        return [selfies_to_smiles(s) if s else None for s in selfies]


class _Joined:
    def __init__(self, futures):
        self.futures = futures

    def result(self):
        return [smi for f in self.futures for smi in f.result()]


class SmilesDecoding:
    """SELFIES batches turned into canonical SMILES (smiles_of): in ``workers`` worker processes that work while
    the caller goes on (decoding the next batch on the GRU), or in this process when workers <= 1. submit()
    returns an object whose result() is the list; the results are the same either way. ``depth``: how many
    batches a caller should keep in flight."""

    def __init__(self, workers: int = 1, relaxed: bool = False):
        self.relaxed, self.workers, self.pool = relaxed, max(1, workers), None
        if self.workers > 1:
            self.pool = process_pool(self.workers)
        self.depth = 2 if self.pool else 1

    def submit(self, selfies: list):
        if self.pool is None:
            return Done(smiles_of(selfies, self.relaxed))
        size = -(-len(selfies) // self.workers) or 1
        return _Joined([self.pool.submit(smiles_of, selfies[i : i + size], self.relaxed)
                        for i in range(0, len(selfies), size)])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
        return False


@dataclass(frozen=True)
class Vocab:
    """Token alphabet with the three special tokens first, and the length limit (tokens + <eos>)."""

    tokens: tuple[str, ...]
    max_len: int
    index: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if tuple(self.tokens[:3]) != SPECIALS:
            raise MolvaeError("vocabulary must start with <pad>, <bos>, <eos>")
        if len(set(self.tokens)) != len(self.tokens):
            raise MolvaeError("vocabulary has duplicate tokens")
        object.__setattr__(self, "index", {t: i for i, t in enumerate(self.tokens)})

    pad, bos, eos = PAD_ID, BOS_ID, EOS_ID

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def has_stereo(self) -> bool:
        """Whether the vocabulary can write stereochemistry ([C@H1], [C@@H1], /C, \\C tokens)."""
        return any("@" in t or t.startswith(("[/", "[\\")) for t in self.tokens)

    @classmethod
    def build(cls, selfies_strings: Iterable[str], max_len: int | None = None) -> "Vocab":
        counts, longest = Counter(), 0
        for s in selfies_strings:
            toks = split(s)
            counts.update(toks)
            longest = max(longest, len(toks))
        tokens = SPECIALS + tuple(sorted(counts))
        return cls(tokens, max_len or longest + 1)

    def missing(self, selfies_strings: Iterable[str]) -> Counter:
        """The tokens these SELFIES strings use that the vocabulary lacks, with how many strings use each, in
        the order they first appear."""
        counts = Counter()
        for s in selfies_strings:
            counts.update(dict.fromkeys((t for t in split(s) if t not in self.index), 1))
        return counts

    def extended(self, selfies_strings: Iterable[str], max_len: int = 0) -> "Vocab":
        """This vocabulary with the tokens the strings need appended (every existing token keeps its id), and a
        length limit of max_len, or at least the longest string + <eos>."""
        strings = list(selfies_strings)
        longest = max((len(split(s)) for s in strings), default=0)
        new = tuple(sorted(self.missing(strings)))
        return Vocab(self.tokens + new, max_len or max(self.max_len, longest + 1))

    def to_json(self) -> dict:
        return {"tokens": list(self.tokens), "max_len": self.max_len}

    @classmethod
    def from_json(cls, d: dict) -> "Vocab":
        return cls(tuple(d["tokens"]), int(d["max_len"]))

    def encode_selfies(self, selfies_str: str) -> tuple[list[int] | None, str]:
        """Token ids ending with <eos> (no <bos>), or (None, reason)."""
        toks = split(selfies_str)
        unknown = [t for t in toks if t not in self.index]
        if any(t != "." for t in unknown):
            return None, f"unknown token {next(t for t in unknown if t != '.')}"
        if unknown:  # only the fragment separator: a salt or mixture, for a vocabulary of single molecules
            return None, "several fragments (a salt or mixture; standardize it to its parent)"
        if len(toks) + 1 > self.max_len:
            return None, f"too long ({len(toks)} tokens, limit {self.max_len - 1})"
        return [self.index[t] for t in toks] + [self.eos], ""

    def encode(self, smiles) -> tuple[list[int] | None, str]:
        s, reason = smiles_to_selfies(smiles)
        if s is None:
            return None, reason
        return self.encode_selfies(s)

    def decode_ids(self, ids: Iterable[int]) -> str:
        """Ids -> SELFIES string, stopping at <eos>; padding and <bos> are skipped."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.eos:
                break
            if i > self.eos:
                out.append(self.tokens[i])
        return "".join(out)


_MARKS = re.compile(r"[@/\\]|[+-]\d+(?=\])")


def parent_token(token: str) -> str:
    """The token without stereo marks and charge: [C@@H1] -> [CH1], [/C] -> [C], [NH1+1] -> [NH1], [O-1] -> [O].
    A new token's weights start from its parent's when a vocabulary grows."""
    return _MARKS.sub("", token)


def pad_batch(seqs: list[list[int]], pad: int = PAD_ID) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    arr = np.full((len(seqs), int(lengths.max(initial=1))), pad, dtype=np.int64)
    for i, s in enumerate(seqs):
        arr[i, : len(s)] = s
    return arr, lengths
