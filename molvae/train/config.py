"""Training settings: the TrainConfig dataclass, its checks, TOML files and the KL-weight schedule."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import tomllib

from ..errors import MolvaeError

RENAMED = {"hidden_dim": "dec_hidden", "enc_hidden_dim": "enc_hidden"}  # older names still read

# The bundled models' recipes (training/default/config.json, training/fast/config.json): what `molvae train`
# uses unless told otherwise, so that a model retrained on a user's data has the architecture docs/benchmarks.md
# measures.
PRESETS = {
    "default": dict(epochs=40, batch_size=512, lr=1e-3, lr_decay=0.92, emb_dim=64, enc_hidden=256, enc_layers=1,
                    dec_hidden=512, dec_layers=3, latent_dim=64, beta=0.25, kl_schedule="linear",
                    kl_warmup_steps=3000, free_bits=0.1),
    "fast": dict(epochs=40, batch_size=1024, lr=1.5e-3, lr_decay=0.85, emb_dim=64, enc_hidden=256, enc_layers=1,
                 dec_hidden=384, dec_layers=2, latent_dim=64, beta=0.4, kl_schedule="linear", kl_warmup_steps=2000,
                 free_bits=0.1, properties=["qed", "logp", "sa", "plogp", "tpsa", "mw"]),
    "none": {},  # TrainConfig's own defaults: a small one-layer model, for quick experiments
}


class TrainError(MolvaeError):
    """A user-facing problem with a training run (bad settings, nothing to resume, no usable data)."""


@dataclass
class TrainConfig:
    data: str = ""
    out: str = ""
    smiles_column: str | None = None
    standardize: str = "off"       # off | parent | parent+tautomer: molvae.chem.standardize, before encoding
    epochs: int = 10
    batch_size: int = 256          # per process
    lr: float = 1e-3
    lr_decay: float = 1.0          # multiplied into the learning rate after every epoch
    emb_dim: int = 64
    dec_hidden: int = 512          # decoder GRU width
    enc_hidden: int = 256          # encoder GRU width (per direction)
    enc_layers: int = 1
    dec_layers: int = 1
    bidirectional: bool = True
    latent_dim: int = 64
    dropout: float = 0.0
    max_len: int = 0               # 0: longest training molecule + 1
    beta: float = 0.1              # final KL weight
    kl_schedule: str = "linear"    # linear | cyclical | constant
    kl_warmup_steps: int = 2000    # linear: steps from 0 to beta; cyclical: length of one cycle
    kl_ramp_fraction: float = 0.5  # cyclical: share of a cycle spent ramping (Fu et al. 2019)
    free_bits: float = 0.1         # nats per latent dimension
    grad_clip: float = 5.0
    val_fraction: float = 0.02
    val_max: int = 5000
    recon_eval: int = 500          # validation molecules decoded greedily every epoch
    max_minutes: float = 0.0       # 0: no limit; this run's wall-clock budget
    checkpoint_minutes: float = 10.0
    seed: int = 0
    threads: int = 0               # 0: torch default
    device: str = "cpu"            # as every command: cpu; auto: CUDA, then MPS, then CPU
    amp: bool = True               # bfloat16 autocast on CUDA and on CPUs with bf16 units
    properties: list = field(default_factory=list)  # property head targets: data columns or computed names
    property_weight: float = 1.0   # weight of the head's loss (MSE in standard units) beside the ELBO
    init_from: str = ""            # start from this model's weights (e.g. to add a property head)
    freeze_vae: bool = False       # with init_from: train only the property head, the VAE left as it is
    extend_vocab: bool = False     # with init_from: add the tokens the data needs to the model's vocabulary

    def validate(self) -> None:
        if not self.data:
            raise TrainError("--data is required")
        if not self.out:
            raise TrainError("--out is required")
        for f in fields(self):
            v = getattr(self, f.name)
            if f.type == "int" and (not isinstance(v, int) or isinstance(v, bool)):
                raise TrainError(f"{f.name.replace('_', '-')} must be a whole number, got {v!r}")
            if f.type == "float" and (not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v)):
                raise TrainError(f"{f.name.replace('_', '-')} must be a finite number, got {v!r}")
            if f.type == "bool" and not isinstance(v, bool):
                raise TrainError(f"{f.name.replace('_', '-')} must be true or false, got {v!r}")
        positive = ["epochs", "batch_size", "emb_dim", "dec_hidden", "enc_hidden", "enc_layers",
                    "dec_layers", "latent_dim", "kl_warmup_steps"]
        for name in positive:
            if getattr(self, name) <= 0:
                raise TrainError(f"{name.replace('_', '-')} must be positive (got {getattr(self, name)})")
        if self.lr <= 0 or self.beta < 0 or self.free_bits < 0 or self.max_minutes < 0:
            raise TrainError("lr must be positive; beta, free-bits and max-minutes must not be negative")
        if self.kl_schedule not in ("linear", "cyclical", "constant"):
            raise TrainError(f"unknown kl schedule '{self.kl_schedule}' (linear, cyclical, constant)")
        if not 0 <= self.val_fraction < 1:
            raise TrainError("val-fraction must be in [0, 1)")
        if self.standardize not in ("off", "parent", "parent+tautomer"):
            raise TrainError(f"unknown standardization '{self.standardize}' (off, parent, parent+tautomer)")
        if self.device not in ("auto", "cpu", "cuda", "mps"):
            raise TrainError(f"unknown device '{self.device}' (auto, cpu, cuda, mps)")
        if self.threads < 0 or self.val_max < 0 or self.max_len < 0 or self.recon_eval < 0:
            raise TrainError("threads, val-max, max-len and recon-eval must not be negative")
        if not 0 < self.kl_ramp_fraction <= 1 or not 0 <= self.dropout < 1 or self.lr_decay <= 0:
            raise TrainError("kl-ramp-fraction must be in (0, 1], dropout in [0, 1), lr-decay positive")
        if not 0 <= self.seed < 2**31:
            raise TrainError(f"seed must be in [0, 2^31), got {self.seed}")
        if self.checkpoint_minutes <= 0 or self.grad_clip <= 0:
            raise TrainError("checkpoint-minutes and grad-clip must be positive")
        self.properties = parse_properties(self.properties)
        if self.property_weight < 0:
            raise TrainError("property-weight must not be negative")
        if self.freeze_vae and not (self.init_from and self.properties):
            raise TrainError("freeze-vae trains only a property head: it needs --init-from and --properties")
        if self.extend_vocab and (not self.init_from or self.freeze_vae):
            raise TrainError("extend-vocab grows the vocabulary of --init-from's model: it needs --init-from and"
                             " trains the whole model (not with --freeze-vae)")

    @classmethod
    def from_toml(cls, path) -> dict:
        try:
            raw = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise TrainError(f"config file not found: {path}") from None
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise TrainError(f"cannot read config {path}: {exc}") from None
        raw = {RENAMED.get(k.replace("-", "_"), k.replace("-", "_")): v for k, v in raw.get("train", raw).items()}
        known = {f.name for f in fields(cls)}
        bad = [k for k in raw if k not in known]
        if bad:
            raise TrainError(f"unknown setting(s) in {path}: {', '.join(bad)}")
        return raw

    @classmethod
    def saved(cls, path) -> dict:
        """The settings a run wrote to its config.json (for --resume), under today's names."""
        known = {f.name for f in fields(cls)}
        saved = {RENAMED.get(k, k): v for k, v in json.loads(Path(path).read_text()).items()}
        return {k: v for k, v in saved.items() if k in known}


def beta_at(step: int, cfg: TrainConfig) -> float:
    if cfg.kl_schedule == "constant":
        return cfg.beta
    if cfg.kl_schedule == "linear":
        return cfg.beta * min(1.0, step / cfg.kl_warmup_steps)
    pos = (step % cfg.kl_warmup_steps) / cfg.kl_warmup_steps
    return cfg.beta * min(1.0, pos / cfg.kl_ramp_fraction)


def parse_properties(value) -> list[str]:
    """Property-head names from a comma-separated string or a list; one-line errors for junk or repeats."""
    if isinstance(value, str):
        value = [p.strip() for p in value.split(",") if p.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) and p for p in value):
        raise TrainError(f"properties must be a list of names, got {value!r}")
    if len(set(value)) != len(value):
        raise TrainError("properties are named more than once")
    return list(value)
