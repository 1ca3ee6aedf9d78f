"""Property-guided sampling: molecules drawn from the prior restricted to what meets conditions such as
``qed >= 0.8`` or ``2 <= logp <= 3``.

Latents are proposed from the model's prior (the learned one when it has one) and, for the conditions on
properties the model's head predicts, ranked by how far the head's predictions fall outside the ranges (in units
of the property's spread): of every ``oversample`` draws only the most promising one is decoded. Each decoded
molecule is then checked with RDKit's exact values, so the output holds only molecules that truly meet every
condition; a condition on a property the head does not predict works by rejection alone.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import chem, properties
from .tokens import selfies_to_smiles

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NAME = r"[A-Za-z_]\w*"


@dataclass(frozen=True)
class Condition:
    """low <= name <= high (either bound may be infinite); ``text`` is how the user wrote it."""

    name: str
    low: float
    high: float
    text: str

    def holds(self, value: float) -> bool:
        return value == value and self.low <= value <= self.high


def parse_condition(text: str) -> Condition:
    """``name >= a``, ``name <= b``, ``a <= name <= b`` (also > and <, read as >= and <=: the values are
    continuous). ValueError (one line) for anything else or an unknown property."""
    s = str(text).strip()
    m = re.fullmatch(rf"({_NUM})\s*<=?\s*({_NAME})\s*<=?\s*({_NUM})", s)
    if m:
        low, name, high = float(m.group(1)), m.group(2), float(m.group(3))
    else:
        m = re.fullmatch(rf"({_NAME})\s*(>=|<=|>|<)\s*({_NUM})", s) or re.fullmatch(rf"({_NUM})\s*(>=|<=|>|<)\s*({_NAME})", s)
        if not m:
            raise ValueError(f"cannot read the condition {text!r} (write e.g. 'qed >= 0.8' or '2 <= logp <= 3')")
        a, op, b = m.groups()
        if re.fullmatch(_NUM, a):  # "0.8 <= qed" -> "qed >= 0.8"
            a, b, op = b, a, {">=": "<=", "<=": ">=", ">": "<", "<": ">"}[op]
        name, value = a, float(b)
        low, high = (value, math.inf) if op in (">=", ">") else (-math.inf, value)
    if name not in properties.PROPERTIES:
        raise ValueError(f"unknown property '{name}' in {text!r} (known: {', '.join(properties.PROPERTIES)})")
    if low > high:
        raise ValueError(f"the condition {text!r} can never hold")
    return Condition(name, low, high, s)


def _violation(pred: np.ndarray, conds: list[Condition], spread: np.ndarray) -> np.ndarray:
    """Sum over conditions of how far each prediction falls outside its range, in units of the spread."""
    v = np.zeros(len(pred))
    for j, c in enumerate(conds):
        v += (np.maximum(c.low - pred[:, j], 0) + np.maximum(pred[:, j] - c.high, 0)) / spread[j]
    return v


def _proposer(vae, conds: list[Condition], prior: str, oversample: int):
    """A function (k, generator) -> k latents: prior draws, ranked by the head where it can help."""
    import torch

    draw = vae.prior_sampler(prior)
    guided = [c for c in conds if c.name in vae.properties]
    if not guided or oversample <= 1:
        return draw
    cols = [vae.properties.index(c.name) for c in guided]
    spread = vae.model.prop_std.detach().cpu().numpy()[cols].astype(np.float64)

    def propose(k: int, gen) -> torch.Tensor:
        pool = draw(k * oversample, gen)
        pred = vae.predict_latent(pool.cpu().numpy())[:, cols].astype(np.float64)
        best = np.argsort(_violation(pred, guided, spread), kind="stable")[:k]
        return pool[torch.as_tensor(np.sort(best), device=pool.device)]

    return propose


def sample_where(vae, n: int, where, seed: int | None = 0, prior: str = "auto", greedy: bool | None = None,
                 temperature: float = 1.0, oversample: int = 20, max_draws: int | None = None,
                 filters=None) -> pd.DataFrame:
    """n molecules that meet every condition (strings for :func:`parse_condition`, or Conditions), with a
    column of RDKit's value for each conditioned property. ``attrs``: drawn (molecules decoded), hits,
    discarded (by reason). Fewer than n rows when ``max_draws`` decodes (default 200 n, at least 10,000) were
    not enough; ``filters`` (a function mol -> bool) rejects molecules that fail it."""
    import secrets

    import torch

    conds = [c if isinstance(c, Condition) else parse_condition(c) for c in where]
    if not conds:
        raise ValueError("guided sampling needs at least one condition")
    if n <= 0:
        raise ValueError("n must be positive")
    max_draws = max_draws or max(200 * n, 10_000)
    propose = _proposer(vae, conds, prior, oversample)
    if greedy is None:  # as MolVAE.sample: greedy from a learned prior
        greedy = vae.uses_learned_prior(prior)
    gen = vae._generator(seed if seed is not None else secrets.randbits(63))
    rows, drawn, discarded = [], 0, Counter()
    names = list(dict.fromkeys(c.name for c in conds))
    while len(rows) < n and drawn < max_draws:
        k = min(vae.batch_size, max_draws - drawn)
        with torch.no_grad():
            z = propose(k, gen)
        selfies, ll = vae.decode_selfies(z, greedy=greedy, temperature=temperature, generator=gen)
        for s, lik in zip(selfies, ll):
            drawn += 1  # counted as checked: a batch's remainder after the n-th hit is not
            smi = selfies_to_smiles(s) if s else None
            mol = chem.to_mol(smi) if smi else None
            if mol is None:
                discarded["rejected by RDKit" if s else "empty"] += 1
                continue
            values = {name: float(properties.PROPERTIES[name](mol)) for name in names}
            if not all(c.holds(values[c.name]) for c in conds):
                discarded["outside the conditions"] += 1
                continue
            if filters is not None and not filters(mol):
                discarded["failed the filters"] += 1
                continue
            rows.append({"smiles": smi, "selfies": s, **{k: round(v, 4) for k, v in values.items()},
                         "loglik": round(float(lik), 4)})
            if len(rows) == n:
                break
    df = pd.DataFrame(rows, columns=["smiles", "selfies", *names, "loglik"])
    df.attrs.update(drawn=drawn, hits=len(rows), discarded=dict(discarded), conditions=[c.text for c in conds])
    return df
