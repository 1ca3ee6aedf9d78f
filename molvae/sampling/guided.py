"""Property-guided sampling: molecules drawn from the prior restricted to what meets conditions such as
``qed >= 0.8`` or ``2 <= logp <= 3``.

Latents are proposed from two sources. The model's prior (the learned one when it has one), ranked, for the
conditions on properties the model's head predicts, by how far the head's predictions fall outside the ranges (in
units of the property's spread): of every ``oversample`` draws only the most promising one is decoded. And, when
``local_scale`` > 0 and there are hits, the neighbourhoods of the hits' latents, favouring hits whose neighbours
were hits too; each round then draws most of its latents from whichever source has the higher hit rate so far.
Neighbourhoods are off by default: chosen on validation molecules (benchmarks/guided_choice.py,
benchmarks/results/guided_choice_moses.md), they raise hits per decode on rare conditions but their hits sit
further from real molecules meeting the condition (higher FCD). Each decoded molecule is then
checked with RDKit's exact values, so the output holds only distinct molecules that truly meet every condition; a
condition on a property the head does not predict is steered by the neighbourhoods and checked by rejection.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..chem import mol as chem, properties
from ..model.tokens import selfies_to_smiles
from ..errors import MolvaeError

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NAME = r"[A-Za-z_]\w*"
ROUND = 128  # latents decoded per round: hits found early become parents sooner


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
            raise MolvaeError(f"cannot read the condition {text!r} (write e.g. 'qed >= 0.8' or '2 <= logp <= 3')")
        a, op, b = m.groups()
        if re.fullmatch(_NUM, a):  # "0.8 <= qed" -> "qed >= 0.8"
            a, b, op = b, a, {">=": "<=", "<=": ">=", ">": "<", "<": ">"}[op]
        name, value = a, float(b)
        low, high = (value, math.inf) if op in (">=", ">") else (-math.inf, value)
    if name not in properties.PROPERTIES:
        raise MolvaeError(f"unknown property '{name}' in {text!r} (known: {', '.join(properties.PROPERTIES)})")
    if low > high:
        raise MolvaeError(f"the condition {text!r} can never hold")
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


class _Neighbourhoods:
    """Latents of earlier hits, each a parent of new proposals z_parent + scale * eps. Parents are drawn in
    proportion to how often their own proposals were hits (Laplace-smoothed), so the draws move to where the
    conditions hold, as a population Monte Carlo sampler does. Measured on the default model's rarest
    benchmark condition (benchmarks/results/guided_moses.md): about a quarter of these proposals are hits."""

    def __init__(self, scale: float):
        self.scale, self.z, self.won, self.tried = scale, [], [], []

    def __len__(self) -> int:
        return len(self.z)

    def add(self, z) -> None:
        self.z.append(z)
        self.won.append(0)
        self.tried.append(0)

    def credit(self, parent: int, hit: bool) -> None:
        self.tried[parent] += 1
        self.won[parent] += int(hit)

    @property
    def hits(self) -> int:
        """Hits found among all the neighbourhood proposals so far."""
        return sum(self.won)

    def rate(self) -> float:
        """Laplace-smoothed hit rate of all the neighbourhood proposals so far."""
        return (self.hits + 1) / (sum(self.tried) + 2)

    def propose(self, k: int, gen):
        import torch

        zs = torch.stack(self.z)
        w = (torch.tensor(self.won, dtype=torch.float64) + 1) / (torch.tensor(self.tried, dtype=torch.float64) + 2)
        idx = torch.multinomial(w.to(zs.device), k, replacement=True, generator=gen)
        base = zs[idx]
        return base + self.scale * torch.randn(base.shape, generator=gen, device=zs.device), idx.tolist()


def _round(k: int, propose, near: _Neighbourhoods, prior_tally: list, gen):
    """k latents: most from whichever source (the prior, ranked by the head; or neighbourhoods of earlier hits)
    has the higher hit rate so far, a tenth from the other; parent index per latent, -1 for prior draws.
    prior_tally: [hits, tries] of the prior draws so far."""
    import torch

    local = 0
    if near.scale > 0 and len(near):
        prior_rate = (prior_tally[0] + 1) / (prior_tally[1] + 2)
        local = round(k * (0.9 if near.rate() >= prior_rate else 0.1))
    parts, parents = [], [-1] * (k - local)
    if k > local:
        parts.append(propose(k - local, gen))
    if local:
        z, idx = near.propose(local, gen)
        parts.append(z)
        parents += idx
    return torch.cat(parts), parents


def _check(s: str, conds, names, seen: set, filters, is_novel) -> tuple[dict | None, str]:
    """The output row of a decoded SELFIES when it is a new hit, else None and why not."""
    smi = selfies_to_smiles(s) if s else None
    mol = chem.to_mol(smi) if smi else None
    if mol is None:
        return None, "rejected by RDKit" if s else "empty"
    if smi in seen:
        return None, "duplicate"
    seen.add(smi)
    values = {name: float(properties.PROPERTIES[name](mol)) for name in names}
    if not all(c.holds(values[c.name]) for c in conds):
        return None, "outside the conditions"
    if filters is not None and not filters(mol):
        return None, "failed the filters"
    if is_novel is not None and not is_novel([smi])[0]:
        return None, "in the training set"
    return {"smiles": smi, "selfies": s, **{k: round(v, 4) for k, v in values.items()}}, ""


def sample_where(vae, n: int, where, seed: int | None = 0, prior: str = "auto", greedy: bool | None = None,
                 temperature: float = 1.0, oversample: int = 20, max_draws: int | None = None,
                 filters=None, local_scale: float = 0.0, novel: bool = False) -> pd.DataFrame:
    """n distinct molecules that meet every condition (strings for :func:`parse_condition`, or Conditions), with
    a column of RDKit's value for each conditioned property. Latents come from the prior (ranked by the head)
    and, with ``local_scale`` > 0 once there are hits, from their neighbourhoods (0, the default, turns this off:
    see the module's docstring). ``attrs``: drawn
    (molecules checked), decoded (latents decoded: drawn plus the last round's remainder after the n-th hit, the
    cost), hits, discarded (by reason), from_neighbourhoods (hits found there). Fewer than n rows
    when ``max_draws`` decodes (default 200 n, at least 10,000) were not enough; ``filters`` (a function mol ->
    bool) rejects molecules that fail it; ``novel`` rejects the model's own training molecules."""
    import secrets

    import torch

    conds = [c if isinstance(c, Condition) else parse_condition(c) for c in where]
    if not conds:
        raise MolvaeError("guided sampling needs at least one condition")
    if n <= 0:
        raise MolvaeError("n must be positive")
    if not local_scale >= 0:
        raise MolvaeError("local_scale must be 0 or more")
    if novel and vae.is_novel([""]) is None:
        raise MolvaeError("this model carries no record of its training molecules, so novelty cannot be checked")
    max_draws = max_draws or max(200 * n, 10_000)
    propose = _proposer(vae, conds, prior, oversample)
    if greedy is None:  # as MolVAE.sample: greedy from a learned prior
        greedy = vae.uses_learned_prior(prior)
    gen = vae._generator(seed if seed is not None else secrets.randbits(63))
    near, prior_tally = _Neighbourhoods(local_scale), [0, 0]
    rows, seen, drawn, decoded, discarded = [], set(), 0, 0, Counter()
    names = list(dict.fromkeys(c.name for c in conds))
    while len(rows) < n and drawn < max_draws:
        with torch.no_grad():
            z, parents = _round(min(ROUND, max_draws - drawn), propose, near, prior_tally, gen)
        selfies, ll = vae.decode_selfies(z, greedy=greedy, temperature=temperature, generator=gen)
        decoded += len(z)
        for zi, s, lik, parent in zip(z, selfies, ll, parents):
            drawn += 1  # counted as checked: a round's remainder after the n-th hit is not
            row, why = _check(s, conds, names, seen, filters, vae.is_novel if novel else None)
            if parent >= 0:
                near.credit(parent, row is not None)
            else:
                prior_tally[0] += row is not None
                prior_tally[1] += 1
            if row is None:
                discarded[why] += 1
                continue
            near.add(zi)
            rows.append({**row, "loglik": round(float(lik), 4)})
            if len(rows) == n:
                break
    df = pd.DataFrame(rows, columns=["smiles", "selfies", *names, "loglik"])
    df.attrs.update(drawn=drawn, decoded=decoded, hits=len(rows), discarded=dict(discarded),
                    conditions=[c.text for c in conds],
                    from_neighbourhoods=near.hits)
    return df
