"""Weighted retraining: the model learns from what the oracle says.

Every ``every`` oracle calls the VAE is fine-tuned for ``steps`` Adam steps on the molecules scored so far,
each drawn with probability proportional to 1 / (k N + rank) (rank 0 the best of the N distinct molecules;
Tripp, Daxberger and Hernandez-Lobato, "Sample-Efficient Optimization in the Latent Space of Deep Generative
Models via Weighted Retraining", NeurIPS 2020, whose k = 1e-3 is the default here), on the model's own
training loss (reconstruction NLL plus beta times the KL with free bits, as ``molvae train``). The decoder then
puts more of its mass near the best molecules; the archive is re-encoded (mu of every molecule scored) so the
surrogate carries on in the new latent space, as LOL-BO (Maus et al., NeurIPS 2022) re-encodes its data after
each update of the VAE, and in constrained mode the start is found again by inversion (a latent that decodes to
it, :meth:`molvae.api.MolVAE.invert`, after InvBO, Chu et al., NeurIPS 2024). The fine-tuned weights belong to the run:
:func:`molvae.optimize.optimize` copies the model first, so the caller's MolVAE never changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .oracle import OptimizeError

LIMITS = {"every": (0, 10**7), "steps": (1, 10_000), "batch_size": (1, 4096), "lr": (1e-7, 1e-1),
          "k": (1e-6, 1e3), "beta": (0.0, 10.0), "free_bits": (0.0, 10.0)}
OPTIONS = ("steps", "batch_size", "lr", "k", "beta", "free_bits")  # what retrain_options may set


@dataclass
class Retrainer:
    every: int                 # oracle calls between fine-tuning rounds (0: never)
    steps: int = 30
    batch_size: int = 64
    lr: float = 3e-4
    k: float = 1e-3
    beta: float = 0.25         # the bundled models' KL weight
    free_bits: float = 0.1
    rounds: int = 0
    due_at: int = field(default=0, repr=False)
    opt: object = field(default=None, repr=False)

    def __post_init__(self):
        for name, (lo, hi) in LIMITS.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi \
                    or (isinstance(lo, int) and not isinstance(v, int)):
                raise OptimizeError(f"retrain {name.replace('_', '-')} must be in [{lo}, {hi}], got {v!r}")
        self.due_at = self.every

    def maybe(self, search) -> bool:
        """Fine-tune and re-encode when ``every`` calls have passed since the last round."""
        oracle = search.oracle
        if not self.every or oracle.calls < self.due_at or oracle.exhausted or len(search.archive.y) < 2:
            return False
        self.due_at = oracle.calls + self.every
        self._finetune(search)
        self._reencode(search)
        self.rounds += 1
        return True

    def weights(self, y: np.ndarray) -> np.ndarray:
        """Sampling probabilities 1 / (k N + rank), normalized; rank 0 is the highest y."""
        rank = np.empty(len(y))
        rank[np.argsort(-y, kind="stable")] = np.arange(len(y))
        w = 1.0 / (self.k * len(y) + rank)
        return w / w.sum()

    def _finetune(self, search) -> None:
        import torch

        from ..model.vae import kl_loss

        vae, archive = search.vae, search.archive
        best: dict = {}
        for s, v in zip(archive.smiles, archive.y):
            best[s] = max(v, best.get(s, -np.inf))
        smiles = list(best)
        seqs, _ = vae.tokenize(smiles)
        ok = [i for i, q in enumerate(seqs) if q is not None]
        if len(ok) < 2:
            return
        p = self.weights(np.array([best[smiles[i]] for i in ok]))
        model = vae.model
        if self.opt is None:
            self.opt = torch.optim.Adam([q for q in model.parameters() if q.requires_grad], lr=self.lr)
        model.train()
        try:
            for _ in range(self.steps):
                pick = search.rng.choice(len(ok), size=self.batch_size, p=p)
                for _, x, lengths in vae.batches([seqs[ok[i]] for i in pick]):
                    nll, kl, _ = model(x.to(vae.device), lengths.to(vae.device))
                    loss = nll.mean() + self.beta * kl_loss(kl, self.free_bits)
                    self.opt.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                    self.opt.step()
        finally:
            model.eval()

    def _reencode(self, search) -> None:
        archive = search.archive
        distinct = list(dict.fromkeys(archive.smiles))
        mu = search.vae.encode(distinct).astype(np.float64)
        row = {s: i for i, s in enumerate(distinct)}
        z = mu[[row[s] for s in archive.smiles]]
        keep = np.isfinite(z).all(1)
        archive.z[keep] = z[keep]
        if search.z0 is not None and search.oracle.start:
            z0, _ = search.vae.invert(search.oracle.start)
            search.z0 = z0.astype(np.float64)


def can_finetune(vae) -> bool:
    """Whether retraining can fine-tune this model: an int8-quantized one cannot."""
    from ..model.vae import is_quantized

    return not is_quantized(vae.model)


def check_quantized(vae) -> None:
    """An int8 model cannot be fine-tuned."""
    if not can_finetune(vae):
        raise OptimizeError("retraining fine-tunes the model, which an int8-quantized model cannot do: load it"
                            " without --int8")
