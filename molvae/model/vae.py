"""The VAE, top to bottom: embedding, GRU encoder, (mu, logvar), reparameterization, GRU decoder, ELBO terms,
and batched decoding that stops as soon as every sequence has ended."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from .tokens import BOS_ID as BOS
from .tokens import EOS_ID as EOS
from .tokens import PAD_ID as PAD
from ..errors import MolvaeError


@dataclass
class ModelConfig:
    vocab_size: int
    max_len: int
    emb_dim: int = 64
    enc_hidden: int = 256
    enc_layers: int = 1
    bidirectional: bool = True
    latent_dim: int = 64
    dec_hidden: int = 512
    dec_layers: int = 1
    dropout: float = 0.0
    properties: tuple = ()  # names of the properties the head predicts from z (empty: no head)

    def to_json(self) -> dict:
        d = asdict(self)
        d["properties"] = list(self.properties)
        return d

    @classmethod
    def from_json(cls, d: dict) -> "ModelConfig":
        if not isinstance(d, dict):
            raise MolvaeError("the model config is not an object")
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise MolvaeError(f"unknown model settings: {', '.join(sorted(unknown))}")
        for f in fields(cls):
            if f.name not in d:
                continue
            v = d[f.name]
            if f.name == "properties":
                if not isinstance(v, (list, tuple)) or not all(isinstance(p, str) and p for p in v) \
                        or len(set(v)) != len(v):
                    raise MolvaeError(f"properties must be a list of distinct names, got {v!r}")
                continue
            if f.type == "bool" and not isinstance(v, bool):
                raise MolvaeError(f"{f.name} must be true or false, got {v!r}")
            if f.type == "int" and (not isinstance(v, int) or isinstance(v, bool) or not 0 < v <= 16384):
                raise MolvaeError(f"{f.name} must be a positive whole number, got {v!r}")
            if f.type == "float" and (not isinstance(v, (int, float)) or not 0 <= v < 1):
                raise MolvaeError(f"{f.name} must be a number in [0, 1), got {v!r}")
        return cls(**{**d, "properties": tuple(d.get("properties", ()))})


class VAE(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.emb_dim, padding_idx=PAD)
        dirs = 2 if cfg.bidirectional else 1
        self.encoder = nn.ModuleList(
            nn.GRU(cfg.emb_dim if i < dirs else dirs * cfg.enc_hidden, cfg.enc_hidden, batch_first=True)
            for i in range(cfg.enc_layers * dirs))
        self.enc_dropout = nn.Dropout(cfg.dropout)
        self.to_latent = nn.Linear(dirs * cfg.enc_hidden, 2 * cfg.latent_dim)
        self.latent_to_hidden = nn.Linear(cfg.latent_dim, cfg.dec_layers * cfg.dec_hidden)
        self.decoder = nn.GRU(cfg.emb_dim + cfg.latent_dim, cfg.dec_hidden, cfg.dec_layers, batch_first=True,
                              dropout=cfg.dropout if cfg.dec_layers > 1 else 0.0)
        self.out = nn.Linear(cfg.dec_hidden, cfg.vocab_size)
        k = len(cfg.properties)
        if k:  # property head on the latent mean, trained jointly (Gomez-Bombarelli et al., ACS Cent. Sci. 4, 268, 2018)
            self.prop_head = nn.Sequential(nn.Linear(cfg.latent_dim, 256), nn.SiLU(), nn.Linear(256, 256),
                                           nn.SiLU(), nn.Linear(256, k))
            # targets are standardized with the training set's mean and sd (saved with the weights)
            self.register_buffer("prop_mean", torch.zeros(k))
            self.register_buffer("prop_std", torch.ones(k))

    # -- encoder ---------------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (B, T) ids ending in <eos>, padded; returns mu, logvar of shape (B, latent_dim).

        Padded batches run through plain GRUs and the state is read at each sequence's last token; the
        backward direction reads each sequence reversed within its own length. (Packed sequences would do
        the same, but their CPU backward pass costs far more time than the little padding that
        length-bucketed batches leave.)
        """
        dirs = 2 if self.cfg.bidirectional else 1
        last = (lengths - 1).to(x.device)
        rows = torch.arange(x.shape[0], device=x.device)
        t = torch.arange(x.shape[1], device=x.device)[None, :]
        rev = torch.where(t < lengths[:, None].to(x.device), last[:, None] - t, t)  # an involution
        inp = self.embed(x)
        for layer in range(self.cfg.enc_layers):
            if layer:
                inp = self.enc_dropout(inp)
            fwd, _ = self.encoder[layer * dirs](inp)
            finals = [fwd[rows, last]]
            if dirs == 2:
                gather = rev[:, :, None].expand(-1, -1, inp.shape[-1])
                bwd, _ = self.encoder[layer * dirs + 1](inp.gather(1, gather))
                finals.append(bwd[rows, last])
                bwd = bwd.gather(1, rev[:, :, None].expand(-1, -1, bwd.shape[-1]))
                fwd = torch.cat([fwd, bwd], dim=-1)
            inp = fwd
        mu, logvar = self.to_latent(torch.cat(finals, dim=-1)).float().chunk(2, dim=-1)  # float32 under autocast
        return mu, logvar.clamp(-12.0, 8.0)

    def set_dropout(self, p: float) -> None:
        """Dropout is a training setting, not part of the weights: a run may train a model with another rate
        than the one it was saved with."""
        self.cfg.dropout = p
        self.enc_dropout.p = p
        self.decoder.dropout = p if self.cfg.dec_layers > 1 else 0.0

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    # -- decoder ---------------------------------------------------------------------------------------
    def init_hidden(self, z: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.latent_to_hidden(z))
        return h.view(z.shape[0], self.cfg.dec_layers, self.cfg.dec_hidden).transpose(0, 1).contiguous()

    def decode_logits(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: the decoder sees <bos> + x[:, :-1] and z at every step; returns (B, T, V)."""
        inp = torch.cat([torch.full_like(x[:, :1], BOS), x[:, :-1]], dim=1)
        emb = self.embed(inp)
        emb = torch.cat([emb, z.unsqueeze(1).expand(-1, x.shape[1], -1)], dim=-1)
        out, _ = self.decoder(emb, self.init_hidden(z))
        return self.out(out)

    # -- property head ---------------------------------------------------------------------------------
    def predict_standardized(self, z: torch.Tensor) -> torch.Tensor:
        """The head's output: (B, K) properties in standard units of the training set."""
        return self.prop_head(z)

    def predict_properties(self, z: torch.Tensor) -> torch.Tensor:
        """(B, K) predicted properties in their own units (see cfg.properties for the names)."""
        return self.prop_head(z) * self.prop_std + self.prop_mean

    # -- objective -------------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor, lengths: torch.Tensor, sample: bool = True, props: bool = False):
        """Returns per-molecule reconstruction NLL (nats), KL per latent dimension (B, D), and mu; with
        props=True also the head's standardized predictions from mu (None without a head)."""
        mu, logvar = self.encode(x, lengths)
        z = self.reparameterize(mu, logvar) if sample else mu
        logits = self.decode_logits(z, x)
        nll = F.cross_entropy(logits.transpose(1, 2), x, ignore_index=PAD, reduction="none").sum(1)
        kl = kl_per_dim(mu, logvar)
        if props:
            return nll, kl, mu, (self.predict_standardized(mu) if self.cfg.properties else None)
        return nll, kl, mu

    # -- generation ------------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, z: torch.Tensor, greedy: bool = False, temperature: float = 1.0,
                 generator: torch.Generator | None = None, max_len: int | None = None,
                 forced: torch.Tensor | None = None, banned: torch.Tensor | None = None):
        """Decode a batch of latents. Returns (ids (B, T) with <eos>/padding, log-likelihood (B,)).

        forced (B, T') holds tokens to write instead of choosing (-1: choose); banned (B, T', V) marks tokens
        that may not be chosen at a step (benchmarks/backtrack.py uses both). Finished sequences leave the
        batch, so the cost follows the live sequences, and the loop ends as soon as every sequence has produced
        <eos>.
        """
        max_len = max_len or self.cfg.max_len
        n, dev = z.shape[0], z.device
        ids = torch.full((n, max_len), PAD, dtype=torch.long, device=dev)
        loglik = torch.zeros(n, device=dev)
        live = torch.arange(n, device=dev)
        h = self.init_hidden(z)
        tok = torch.full((n,), BOS, dtype=torch.long, device=dev)
        zl = z
        for t in range(max_len):
            inp = torch.cat([self.embed(tok), zl], dim=-1).unsqueeze(1)
            out, h = self.decoder(inp, h)
            logits = self.out(out[:, 0])
            logits[:, PAD] = float("-inf")
            logits[:, BOS] = float("-inf")
            if t == max_len - 1:  # force an end at the length limit
                logits[:, EOS + 1:] = float("-inf")
            if banned is not None and t < banned.shape[1]:
                logits[banned[live, t]] = float("-inf")
            logp = F.log_softmax(logits, dim=-1)
            if greedy:
                nxt = logp.argmax(-1)
            else:
                nxt = torch.multinomial(F.softmax(logits / temperature, dim=-1), 1, generator=generator)[:, 0]
            if forced is not None and t < forced.shape[1]:
                nxt = torch.where(forced[live, t] >= 0, forced[live, t], nxt)
            ids[live, t] = nxt
            loglik[live] += logp.gather(1, nxt[:, None])[:, 0]
            keep = nxt != EOS
            if not keep.any():
                break
            if not keep.all():
                live, nxt, zl, h = live[keep], nxt[keep], zl[keep], h[:, keep]
            tok = nxt
        return ids, loglik


def grow_vocab(model: VAE, size: int, max_len: int, parents: dict[int, int]) -> VAE:
    """The model with a vocabulary of `size` tokens and a length limit `max_len`: every existing token keeps its
    embedding and output row, a new token i starts from its parent's (parents[i], e.g. [C@@H1] from [CH1]: the
    decoder first spreads the parent's probability over it and learns the difference) or, without a parent, from
    the mean embedding and a constant logit, the lowest of the old tokens' output biases."""
    old = model.cfg.vocab_size
    if size < old:
        raise MolvaeError(f"a vocabulary cannot shrink ({old} -> {size} tokens)")
    grown = VAE(ModelConfig(**{**model.cfg.to_json(), "vocab_size": size, "max_len": max_len,
                               "properties": model.cfg.properties}))
    state = model.state_dict()
    emb, w, b = state["embed.weight"], state["out.weight"], state["out.bias"]
    new_emb = torch.cat([emb, emb[EOS + 1:].mean(0, keepdim=True).expand(size - old, -1)])
    new_w = torch.cat([w, torch.zeros(size - old, w.shape[1])])
    new_b = torch.cat([b, torch.full((size - old,), float(b[EOS + 1:].min()))])
    for i, parent in parents.items():
        if old <= i < size and 0 <= parent < old:
            new_emb[i], new_w[i], new_b[i] = emb[parent], w[parent], b[parent]
    state.update({"embed.weight": new_emb, "out.weight": new_w, "out.bias": new_b})
    grown.load_state_dict(state)
    return grown


def is_quantized(module: nn.Module) -> bool:
    """Whether any part of the module was dynamically int8-quantized (no gradients flow through it)."""
    return any("quantized" in type(m).__module__ for m in module.modules())


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) for each latent dimension, (B, D) nats."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def kl_loss(kl: torch.Tensor, free_bits: float) -> torch.Tensor:
    """Batch-mean KL summed over dimensions, each dimension floored at `free_bits` nats (Kingma et al. 2016).

    A dimension below the floor gets no gradient from the KL term, so the optimizer has no reason to shut it
    off completely: the guard against posterior collapse.
    """
    per_dim = kl.mean(0)
    return torch.clamp(per_dim, min=free_bits).sum() if free_bits > 0 else per_dim.sum()


def property_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the observed entries of standardized targets; NaN marks a missing value."""
    seen = torch.isfinite(target)
    err = torch.where(seen, pred.float() - torch.nan_to_num(target), torch.zeros_like(target))
    return err.pow(2).sum() / seen.sum().clamp(min=1)


def batch_loss(net, x, lengths, y, beta: float, free_bits: float, property_weight: float = 1.0):
    """One training batch's objective: mean reconstruction NLL + beta * the free-bits KL, plus property_weight
    times the head's loss when targets y are given. `net` is the VAE or a wrapper that calls its forward
    (DistributedDataParallel). Returns (loss, mean NLL, KL per dimension)."""
    if y is None:
        nll, kl, _ = net(x, lengths)
    else:
        nll, kl, _, pred = net(x, lengths, props=True)
    rec = nll.float().mean()
    loss = rec + beta * kl_loss(kl.float(), free_bits)
    if y is not None:
        loss = loss + property_weight * property_loss(pred, y)
    return loss, rec, kl


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> int:
    """Burda et al. (2016): a dimension is active when Var_x(E[z_d | x]) exceeds the threshold."""
    return int((mu.var(0) > threshold).sum()) if mu.shape[0] > 1 else 0


def dims_above_floor(kl_per_dim, free_bits: float, factor: float = 2.0) -> int:
    """Latent dimensions whose mean KL (nats, averaged over a data set) is clearly above the free-bits floor:
    more than ``factor`` times it. Free bits let a dimension sit at the floor at no cost, and such a dimension
    still passes the active-units variance test: this count says how many carry more than the floor's share."""
    return int((torch.as_tensor(kl_per_dim, dtype=torch.float64) > factor * free_bits).sum())
