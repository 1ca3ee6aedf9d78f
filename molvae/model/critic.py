"""A realism critic for a model's samples: a small classifier told to separate training molecules from the
model's own samples, whose score then re-ranks draws (discriminator rejection sampling: Azadi et al., ICLR 2019).
Likelihood re-ranking favours the molecules the decoder knows best, which are often training molecules; the
critic instead keeps the draws that look most like data, novel or not, so that at the same re-ranking the
samples come closer to the data at about the same novelty (benchmarks/prior_choice.py, --ranks).

Features are molvae.chem.features (Morgan counts and structural descriptors), standardized; the classifier is
one hidden layer of 256 ReLU units. It is stored in the model directory as ``critic.safetensors`` (its tensors)
and ``critic.json`` (what it was fitted on and its held-out accuracy); nothing is unpickled.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from ..chem import features as F
from ..errors import MolvaeError
from ..io.atomic import atomic_path, write_json

CRITIC_WEIGHTS, CRITIC_RECORD = "critic.safetensors", "critic.json"
HIDDEN = 256
STD_FLOOR = 0.1  # a feature (a Morgan bit) rare or absent in training is not magnified when a molecule has it
NAMES = ("mean", "std", "w1", "b1", "w2", "b2")


class CriticError(MolvaeError):
    """A critic file that cannot be used (one line)."""


class Critic:
    """score(smiles): the log-odds that each molecule is a training molecule rather than a sample."""

    def __init__(self, tensors: dict):
        self.t = {k: tensors[k].float() for k in NAMES}
        if self.t["w1"].shape != (HIDDEN, F.WIDTH) or self.t["w2"].shape != (1, HIDDEN) \
                or self.t["mean"].shape != (F.WIDTH,) or self.t["std"].shape != (F.WIDTH,):
            raise ValueError(f"tensor shapes do not match features of width {F.WIDTH}")

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        t = self.t
        h = torch.relu(((x - t["mean"]) / t["std"]) @ t["w1"].T + t["b1"])
        return (h @ t["w2"].T + t["b2"]).squeeze(1)

    @torch.no_grad()
    def score(self, smiles) -> np.ndarray:
        """One float per SMILES, higher for more data-like; NaN where it is not a molecule."""
        x = torch.as_tensor(F.features(list(smiles)))
        out = np.full(len(x), np.nan)
        ok = ~torch.isnan(x).any(1)
        if ok.any():
            out[ok.numpy()] = self._logits(x[ok]).double().numpy()
        return out


def fit(positives, negatives, epochs: int = 8, seed: int = 0, held_out: float = 0.1, log=lambda m: None
        ) -> tuple[Critic, dict]:
    """A critic trained to tell ``positives`` (training molecules) from ``negatives`` (the model's samples) by
    binary cross-entropy (Adam, 1e-3, weight decay 1e-4, dropout 0.2, batches of 256); ``held_out`` of the
    molecules are kept out to report its accuracy. SMILES that are not molecules are left out."""
    t0 = time.time()
    xp, xn = F.features(list(positives)), F.features(list(negatives))
    xp, xn = xp[~np.isnan(xp).any(1)], xn[~np.isnan(xn).any(1)]
    if min(len(xp), len(xn)) < 10:
        raise MolvaeError(f"a critic needs at least 10 molecules of each kind ({len(xp)} training, {len(xn)} sampled)")
    x = torch.as_tensor(np.concatenate([xp, xn]))
    y = torch.cat([torch.ones(len(xp)), torch.zeros(len(xn))])
    with torch.random.fork_rng():  # the seed fixes the fit without resetting the caller's random state
        torch.manual_seed(seed)
        critic, acc = _train(x, y, epochs, seed, held_out, log)
    return critic, {"training_molecules": int(len(xp)), "sampled_molecules": int(len(xn)), "epochs": epochs,
                    "seed": seed, "held_out_accuracy": round(acc, 4), "fit_seconds": round(time.time() - t0, 1)}


def _train(x: torch.Tensor, y: torch.Tensor, epochs: int, seed: int, held_out: float, log) -> tuple[Critic, float]:
    """The classifier fitted on all but ``held_out`` of the rows, and its accuracy on those."""
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(x), generator=g)
    cut = max(1, int(held_out * len(x)))
    val, tr = perm[:cut], perm[cut:]
    mean, std = x[tr].mean(0), x[tr].std(0).clamp(min=STD_FLOOR)
    net = torch.nn.Sequential(torch.nn.Linear(F.WIDTH, HIDDEN), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                              torch.nn.Linear(HIDDEN, 1))
    opt = torch.optim.Adam(net.parameters(), 1e-3, weight_decay=1e-4)
    xs = (x - mean) / std
    for epoch in range(epochs):
        net.train()
        for b in torch.split(tr[torch.randperm(len(tr), generator=g)], 256):
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(xs[b]).squeeze(1), y[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        log(f"critic epoch {epoch + 1}/{epochs}: training loss {loss.item():.3f}")
    net.eval()
    critic = Critic({"mean": mean, "std": std, "w1": net[0].weight.detach(), "b1": net[0].bias.detach(),
                     "w2": net[3].weight.detach(), "b2": net[3].bias.detach()})
    with torch.no_grad():
        acc = float(((critic._logits(x[val]) > 0).float() == y[val]).float().mean())
    return critic, acc


def save(model_dir, critic: Critic, record: dict) -> None:
    """Write critic.safetensors (float16) and critic.json into a model directory, each renamed into place."""
    from safetensors.torch import save_file

    d = Path(model_dir)
    with atomic_path(d / CRITIC_WEIGHTS, suffix=".safetensors") as tmp:
        save_file({k: v.half().contiguous() for k, v in critic.t.items()}, str(tmp))
    write_json(d / CRITIC_RECORD, {"kind": "mlp", "features": "molvae.chem.features", "width": F.WIDTH,
                                   "hidden": HIDDEN, **record})
    card = d / "MODEL_CARD.md"
    if card.exists():
        parts = card.read_text().split("\n## Realism critic\n")
        rest = parts[1].split("\n## ", 1)[1] if len(parts) > 1 and "\n## " in parts[1] else ""
        lines = ["", "## Realism critic", "A classifier of training molecules against the model's own samples"
                 " (`critic.safetensors`, `critic.json`); `molvae sample` re-ranks draws by it when the prior's"
                 " sampling defaults say `rank: critic` (`--rank likelihood` for the decoder's likelihood).",
                 *[f"- {k}: {v}" for k, v in record.items()], ""]
        with atomic_path(card) as tmp:
            tmp.write_text(parts[0].rstrip("\n") + "\n" + "\n".join(lines) + ("\n## " + rest if rest else ""))


def load(model_dir) -> Critic | None:
    """The model directory's critic, or None when it has none; a damaged one is a CriticError (one line)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    d = Path(model_dir)
    if not (d / CRITIC_WEIGHTS).exists() and not (d / CRITIC_RECORD).exists():
        return None
    try:
        record = json.loads((d / CRITIC_RECORD).read_text())
        if not isinstance(record, dict) or record.get("kind") != "mlp" or record.get("width") != F.WIDTH:
            raise ValueError(f"unknown critic {record.get('kind') if isinstance(record, dict) else record!r}")
        return Critic(load_file(str(d / CRITIC_WEIGHTS)))
    except (OSError, ValueError, KeyError, SafetensorError) as exc:
        raise CriticError(f"damaged critic in {d}: {str(exc).splitlines()[0]}") from None
