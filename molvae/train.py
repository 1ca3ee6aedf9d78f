"""The one training loop: KL schedule, free bits, gradient clipping, validation, checkpoints, resume.

The same loop runs on one CPU, one GPU, or several processes under torchrun (DistributedDataParallel: gloo on
CPU, NCCL on GPUs): each rank trains on its share of every epoch's batches, and only rank 0 validates and
writes checkpoints, metrics and the exported model.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import signal
import sys
import time
import tomllib
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

from . import __version__, checkpoint, data, tokens
from .model import VAE, ModelConfig, active_units, kl_loss, property_loss
from .tokens import Vocab


class TrainError(ValueError):
    """A user-facing problem with a training run (bad settings, nothing to resume, no usable data)."""


@dataclass
class TrainConfig:
    data: str = ""
    out: str = ""
    smiles_column: str | None = None
    epochs: int = 10
    batch_size: int = 256          # per process
    lr: float = 1e-3
    lr_decay: float = 1.0          # multiplied into the learning rate after every epoch
    emb_dim: int = 64
    hidden_dim: int = 512          # decoder GRU width
    enc_hidden_dim: int = 256
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
    device: str = "auto"           # auto: CUDA, then MPS, then CPU
    amp: bool = True               # bfloat16 autocast on CUDA
    properties: list = field(default_factory=list)  # property head targets: data columns or computed names
    property_weight: float = 1.0   # weight of the head's loss (MSE in standard units) beside the ELBO
    init_from: str = ""            # start from this model's weights (e.g. to add a property head)
    freeze_vae: bool = False       # with init_from: train only the property head, the VAE left as it is

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
        positive = ["epochs", "batch_size", "emb_dim", "hidden_dim", "enc_hidden_dim", "enc_layers",
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

    @classmethod
    def from_toml(cls, path) -> dict:
        try:
            raw = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise TrainError(f"config file not found: {path}") from None
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise TrainError(f"cannot read config {path}: {exc}") from None
        raw = raw.get("train", raw)
        known = {f.name for f in fields(cls)}
        bad = [k for k in raw if k.replace("-", "_") not in known]
        if bad:
            raise TrainError(f"unknown setting(s) in {path}: {', '.join(bad)}")
        return {k.replace("-", "_"): v for k, v in raw.items()}


def beta_at(step: int, cfg: TrainConfig) -> float:
    if cfg.kl_schedule == "constant":
        return cfg.beta
    if cfg.kl_schedule == "linear":
        return cfg.beta * min(1.0, step / cfg.kl_warmup_steps)
    pos = (step % cfg.kl_warmup_steps) / cfg.kl_warmup_steps
    return cfg.beta * min(1.0, pos / cfg.kl_ramp_fraction)


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def versions() -> dict:
    import rdkit
    import selfies

    return {"molvae": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "rdkit": rdkit.__version__, "selfies": selfies.__version__, "numpy": np.__version__}


# -- data preparation -------------------------------------------------------------------------------------
def parse_properties(value) -> list[str]:
    """Property-head names from a comma-separated string or a list; one-line errors for junk or repeats."""
    if isinstance(value, str):
        value = [p.strip() for p in value.split(",") if p.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) and p for p in value):
        raise TrainError(f"properties must be a list of names, got {value!r}")
    if len(set(value)) != len(value):
        raise TrainError("properties are named more than once")
    return list(value)


def _encode_chunk(job) -> list[tuple]:
    """(canonical SMILES, SELFIES, reason) for each SMILES, plus the computed property values (NaN where
    RDKit cannot compute one)."""
    smiles, computed = job
    from . import chem, properties

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
    from . import properties

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


def prepare(data_path, out, smiles_column: str | None = None, vocab: Vocab | None = None, max_len: int = 0,
            workers: int = 1, log=print, properties=()) -> tuple[Vocab, data.TokenizedSet]:
    """Read, canonicalize and encode a training file once, into out/prepared/ (memory-mapped afterwards).

    Reused while the data file (by sha256), the vocabulary and the settings are unchanged, so resuming or
    re-running does not re-tokenize. Rows that cannot be used are counted by reason. `properties` names the
    labels for a property head: a column of the data file (numbers; empty or non-numeric cells are missing
    values) or a property molvae computes (see molvae.properties).
    """
    out = Path(out)
    sha = file_sha256(data_path)
    prepared = out / "prepared"
    if (prepared / "meta.json").exists():
        try:
            ts, meta = data.TokenizedSet.load(prepared)
        except (OSError, ValueError, KeyError):
            ts, meta = None, {}
        same_vocab = vocab is None or meta.get("vocab") == list(vocab.tokens)
        same_settings = meta.get("settings") == _settings(smiles_column, max_len, properties)
        width_ok = ts is not None and (vocab is None or ts.ids.shape[1] == vocab.max_len)
        if meta.get("source_sha256") == sha and same_vocab and same_settings and width_ok:
            log(f"prepared data from {prepared}")
            vocab = vocab or Vocab(tuple(meta["vocab"]), ts.ids.shape[1])
            return vocab, ts
    table, col = data.read_table(data_path, smiles_column)
    smiles = ["" if v is None else str(v) for v in table[col].tolist()]
    cols, computed = property_sources(table.columns, properties)
    log(f"read {len(smiles)} rows from {data_path}; encoding as SELFIES with {workers} process(es)"
        + (f"; property labels: {', '.join(properties)}" if properties else ""))
    from tqdm import tqdm

    chunks = [(smiles[i : i + 5000], computed) for i in range(0, len(smiles), 5000)]
    if workers > 1 and len(chunks) > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            parts = list(tqdm(pool.imap(_encode_chunk, chunks), total=len(chunks), desc="encode", disable=None))
    else:
        parts = [_encode_chunk(c) for c in tqdm(chunks, desc="encode", disable=None)]
    encoded = [r for part in parts for r in part]
    canon = [c if s is not None else smi for (c, s, _, _), smi in zip(encoded, smiles)]
    selfies = [s for _, s, _, _ in encoded]
    props = None
    if properties:
        import pandas as pd

        props = np.full((len(smiles), len(properties)), np.nan, dtype=np.float32)
        for j, name in enumerate(properties):
            if name in cols:
                props[:, j] = pd.to_numeric(table[name], errors="coerce").to_numpy(np.float64)
            else:
                k = computed.index(name)
                props[:, j] = [r[3][k] for r in encoded]
        props[~np.isfinite(props)] = np.nan
    del table
    if vocab is None:
        good = [s for s in selfies if s]
        if not good:
            raise TrainError(f"no usable molecules in {data_path}")
        vocab = Vocab.build(good, max_len or None)
    ts = data.tokenize(canon, vocab, selfies, props)  # counts the reason for every row it leaves out
    if len(ts) == 0:
        raise TrainError(f"no usable molecules in {data_path}")
    if properties:
        seen = np.isfinite(ts.props).sum(0)
        log("property labels present: " + ", ".join(f"{n} {int(c)}/{len(ts)}" for n, c in zip(properties, seen)))
        if (seen < 2).any():
            raise TrainError("property " + ", ".join(n for n, c in zip(properties, seen) if c < 2)
                             + " has fewer than 2 values in the usable rows")
    ts.save(prepared, vocab.tokens, sha, _settings(smiles_column, max_len, properties))
    ts, _ = data.TokenizedSet.load(prepared)
    return vocab, ts


def _settings(smiles_column, max_len, properties) -> dict:
    d = {"smiles_column": smiles_column, "max_len": max_len or 0}
    if properties:
        d["properties"] = list(properties)
    return d


# -- distributed and devices ------------------------------------------------------------------------------
class Dist:
    """Rank, world size and device; a no-op on a single process."""

    def __init__(self, device: str):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else (
                "mps" if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available() else "cpu")
        if device == "cuda" and not torch.cuda.is_available():
            raise TrainError("--device cuda asked for, but CUDA is not available")
        self.device = torch.device(f"cuda:{local}" if device == "cuda" else device)
        if device == "cuda":
            torch.cuda.set_device(self.device)
        if self.world > 1 and not torch.distributed.is_initialized():
            torch.distributed.init_process_group("nccl" if device == "cuda" else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on any (so all ranks stop or checkpoint together)."""
        if self.world == 1:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device=self.device if self.device.type == "cuda" else "cpu")
        torch.distributed.all_reduce(t)
        return bool(t.item() > 0)

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()

    def close(self) -> None:
        if self.world > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def _batch(ts: data.TokenizedSet, idx: np.ndarray, device) -> tuple[torch.Tensor, torch.Tensor]:
    idx = np.sort(idx)  # sorted indices read a memory-mapped file in order
    lengths = ts.lengths[idx].astype(np.int64)
    x = torch.from_numpy(np.asarray(ts.ids[idx, : lengths.max()], dtype=np.int64))
    return x.to(device), torch.from_numpy(lengths).to(device)


def _labels(ts: data.TokenizedSet, idx: np.ndarray, model: VAE, device) -> torch.Tensor | None:
    """The batch's property labels (same row order as _batch) in the head's standard units; NaN = missing."""
    if ts.props is None or not model.cfg.properties:
        return None
    y = torch.from_numpy(np.asarray(ts.props[np.sort(idx)], dtype=np.float32)).to(device)
    return (y - model.prop_mean) / model.prop_std


@torch.no_grad()
def evaluate(model: VAE, ts: data.TokenizedSet, rows: np.ndarray, batch_size: int, recon_n: int,
             device=torch.device("cpu")) -> dict:
    """Validation ELBO terms, KL per dimension, active units and exact greedy reconstruction (token for token)
    of the first `recon_n` molecules."""
    model.eval()
    nll_sum, kl_dims, mus, exact, n = 0.0, None, [], 0, len(rows)
    order = rows[np.argsort(ts.lengths[rows], kind="stable")]
    preds, labels = [], []
    for s in range(0, n, batch_size):
        x, lengths = _batch(ts, order[s : s + batch_size], device)
        nll, kl, mu = model(x, lengths, sample=True)
        nll_sum += float(nll.sum())
        kl_dims = kl.sum(0) if kl_dims is None else kl_dims + kl.sum(0)
        mus.append(mu.float().cpu())
        y = _labels(ts, order[s : s + batch_size], model, device)
        if y is not None:
            preds.append(model.predict_standardized(mu.float()).float().cpu())
            labels.append(y.cpu())
    mu = torch.cat(mus)
    prop_r2 = {}
    if preds:
        p, y = torch.cat(preds), torch.cat(labels)
        for j, name in enumerate(model.cfg.properties):
            seen = torch.isfinite(y[:, j])
            if seen.sum() > 1:
                yt, pt = y[seen, j], p[seen, j]
                prop_r2[name] = round(float(1 - (yt - pt).pow(2).sum() / (yt - yt.mean()).pow(2).sum().clamp(min=1e-12)), 4)
    recon_rows = np.sort(rows[:recon_n])
    for s in range(0, len(recon_rows), batch_size):
        x, lengths = _batch(ts, recon_rows[s : s + batch_size], device)
        m, _ = model.encode(x, lengths)
        out, _ = model.generate(m.float(), greedy=True)
        out, x = out.cpu(), x.cpu()
        T = x.shape[1]
        same = (out[:, :T] == x).all(1) & ((out[:, T:] == 0).all(1) if out.shape[1] > T else True)
        exact += int(same.sum())
    kl_per_dim = (kl_dims.float().cpu() / n).tolist()
    model.train()
    return {
        "val_nll": round(nll_sum / n, 4), "val_kl": round(sum(kl_per_dim), 4),
        "val_elbo": round(-(nll_sum / n + sum(kl_per_dim)), 4),
        "val_recon_exact": round(exact / max(1, len(recon_rows)), 4),
        "active_units": active_units(mu), "kl_per_dim": [round(v, 4) for v in kl_per_dim],
        **({"val_property_r2": prop_r2} if prop_r2 else {}),
    }


def _check_out(out: Path, resume: bool) -> Path | None:
    ckpt_dir = checkpoint.existing_dir(out / "checkpoint")
    if resume and ckpt_dir is None:
        raise TrainError(f"nothing to resume: no checkpoint in {out}")
    if not resume and ckpt_dir is not None:
        raise TrainError(f"{out} already holds a training run; pass --resume or choose another --out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"
        probe.write_bytes(b"0" * 65536)
        probe.unlink()
    except OSError as exc:
        raise TrainError(f"cannot write to {out}: {exc.strerror or exc}") from None
    return ckpt_dir


def train(cfg: TrainConfig, resume: bool = False, command: str = "", log=print, workers: int = 1) -> Path:
    """Train (or resume) a model into cfg.out. Returns the exported model directory."""
    cfg.validate()
    out = Path(cfg.out)
    if not Path(cfg.data).is_file():
        raise TrainError(f"training data not found: {cfg.data}")
    dist = Dist(cfg.device)
    try:
        return _train(cfg, resume, command, log if dist.main else (lambda m: None), dist, out, workers)
    finally:
        dist.close()


def _train(cfg: TrainConfig, resume: bool, command: str, log, dist: Dist, out: Path, workers: int) -> Path:
    ckpt_dir = _check_out(out, resume) if dist.main else checkpoint.existing_dir(out / "checkpoint")
    dist.barrier()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)

    model = vocab = None
    if resume:
        model, vocab, _ = checkpoint.load_model(ckpt_dir)
    elif cfg.init_from:
        model, vocab, _ = checkpoint.load_model(cfg.init_from)
        log(f"starting from the weights of {cfg.init_from}")
    if dist.main:
        vocab, ts = prepare(cfg.data, out, cfg.smiles_column, vocab, cfg.max_len, workers, log, cfg.properties)
    dist.barrier()
    if not dist.main:
        ts, meta = data.TokenizedSet.load(out / "prepared")
        vocab = vocab or Vocab(tuple(meta["vocab"]), ts.ids.shape[1])
    skipped = sum(ts.skipped.values())
    if skipped:
        log(f"skipped {skipped} rows: " + ", ".join(f"{k} {v}" for k, v in sorted(ts.skipped.items())))
    perm = np.random.default_rng(cfg.seed).permutation(len(ts))
    n_val = min(cfg.val_max, int(len(ts) * cfg.val_fraction))
    val_rows, trn_rows = perm[:n_val], perm[n_val:]
    log(f"{len(trn_rows)} training and {len(val_rows)} validation molecules; vocabulary {len(vocab)} tokens,"
        f" at most {vocab.max_len - 1} tokens a molecule; {dist.world} process(es) on {dist.device}")

    if model is None:
        torch.manual_seed(cfg.seed)
        model = VAE(ModelConfig(vocab_size=len(vocab), max_len=vocab.max_len, emb_dim=cfg.emb_dim,
                                enc_hidden=cfg.enc_hidden_dim, enc_layers=cfg.enc_layers,
                                bidirectional=cfg.bidirectional, latent_dim=cfg.latent_dim,
                                dec_hidden=cfg.hidden_dim, dec_layers=cfg.dec_layers, dropout=cfg.dropout,
                                properties=tuple(cfg.properties)))
        _set_label_scale(model, ts, trn_rows)
    elif not resume and tuple(cfg.properties) != model.cfg.properties:  # init_from: a new (or no) head
        torch.manual_seed(cfg.seed)
        base = model
        model = VAE(ModelConfig(**{**base.cfg.to_json(), "properties": tuple(cfg.properties)}))
        model.load_state_dict({k: v for k, v in base.state_dict().items() if not k.startswith("prop_")},
                              strict=False)
        _set_label_scale(model, ts, trn_rows)
    if model.cfg.properties and ts.props is None:
        raise TrainError("the model has a property head but the data has no property labels (--properties)")
    if cfg.freeze_vae:
        if dist.world > 1:
            raise TrainError("freeze-vae (a property head alone) trains in one process")
        for name, p in model.named_parameters():
            p.requires_grad_(name.startswith("prop_head."))
        log("the VAE's weights are frozen: training the property head only")
    model.to(dist.device).train()
    net = model
    if dist.world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[dist.device.index] if dist.device.type == "cuda" else None)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=cfg.lr)
    order = {"seed": cfg.seed, "val_fraction": cfg.val_fraction, "val_max": cfg.val_max, "rows": len(ts),
             "batch_size": cfg.batch_size}
    state = {"epoch": 0, "batch": 0, "step": 0, "seen": 0, "train_seconds": 0.0, "skipped_steps": 0,
             "world": dist.world, "order": order}
    if resume:
        saved = checkpoint.load_training_state(ckpt_dir, opt)
        before = saved.get("order", {})
        changed = [k for k in ("seed", "val_fraction", "val_max", "rows") if k in before and before[k] != order[k]]
        if changed:
            raise TrainError("cannot resume with a different " + ", ".join(changed).replace("_", "-")
                             + f" (the run used {', '.join(f'{k}={before[k]}' for k in changed)}): the"
                             " validation split would change")
        if before.get("batch_size", cfg.batch_size) != cfg.batch_size and saved.get("batch", 0):
            log(f"batch size changed from {before['batch_size']}; restarting the interrupted epoch")
            saved["batch"] = 0
        if saved.get("world", 1) != dist.world and saved.get("batch", 0):
            log(f"the checkpoint was taken with {saved.get('world', 1)} process(es); restarting its epoch")
            saved["batch"] = 0
        state.update({**saved, "world": dist.world, "order": order})
        for g in opt.param_groups:  # settings given now win over the saved ones
            g["lr"] = cfg.lr * cfg.lr_decay ** state["epoch"]
        log(f"resumed from {ckpt_dir}: epoch {state['epoch'] + 1}, batch {state['batch']}, step {state['step']}")
    if dist.main:
        (out / "config.json").write_text(json.dumps({**asdict(cfg), "command": command}, indent=2) + "\n")
    amp = (torch.autocast("cuda", dtype=torch.bfloat16) if cfg.amp and dist.device.type == "cuda"
           else nullcontext())

    data_sha = json.loads((out / "prepared" / "meta.json").read_text())["source_sha256"]  # hashed by prepare()
    provenance = {"data": str(cfg.data), "data_sha256": data_sha, "data_rows_used": len(ts),
                  "data_rows_skipped": ts.skipped, "command": command, "versions": versions(),
                  "device": (f"{dist.world} x {torch.cuda.get_device_name(dist.device)}" if dist.device.type == "cuda"
                             else f"{dist.world} x {platform.machine()} {dist.device.type.upper()},"
                                  f" {torch.get_num_threads()} threads")}
    base_meta = checkpoint.read_meta(cfg.init_from)[1] if cfg.freeze_vae else None
    base_hashes = checkpoint.load_training_set(cfg.init_from) if cfg.freeze_vae else None
    metrics_path = out / "metrics.jsonl"
    last_metrics: dict = {}
    if dist.main:
        rows = read_metrics(metrics_path) if resume else []
        rows = [r for r in rows if r.get("epoch", 0) <= state["epoch"]]
        metrics_path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        last_metrics = rows[-1] if rows else {}

    from tqdm import tqdm

    def summary() -> dict:
        keep = {k: v for k, v in last_metrics.items() if k != "kl_per_dim"}
        keep.update(epochs=state["epoch"], molecules_seen=state["seen"],
                    train_minutes=round(state["train_seconds"] / 60, 1))
        return keep

    def record() -> tuple[dict, dict, str | None, str]:
        """(provenance, metrics, card text, name) for a saved model. A head trained on a frozen VAE keeps
        the VAE's own record, with the head's run beside it."""
        if base_meta is None:
            return provenance, summary(), None, out.name
        head = {**provenance, "init_from": str(cfg.init_from), **summary()}
        return ({**base_meta.get("provenance", {}), "property_head": head},
                {**base_meta.get("metrics", {}), "val_property_r2": last_metrics.get("val_property_r2")},
                base_meta.get("card_extra"), base_meta.get("name", out.name))

    def save_checkpoint():
        if dist.main:
            prov, met, card, name = record()
            checkpoint.save_model(out / "checkpoint", model, vocab, prov, met, name=name, optimizer=opt,
                                  train_state=state, card_extra=card)

    with _stop_requests() as interrupted:
        t_run = t_last_ckpt = time.time()
        stop = False
        rec = torch.zeros(())
        while state["epoch"] < cfg.epochs and not stop:
            epoch = state["epoch"]
            batches = data.bucketed_batches(ts.lengths[trn_rows], cfg.batch_size,
                                            np.random.default_rng(cfg.seed * 7919 + epoch))
            per_rank = len(batches) // dist.world if dist.world > 1 else len(batches)
            mine = [trn_rows[b] for b in batches[dist.rank :: dist.world][:per_rank]]
            bar = tqdm(total=len(mine), initial=state["batch"], desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch",
                       mininterval=2 if sys.stderr.isatty() else 60, disable=None if dist.main else True)
            t_epoch, seen_epoch = time.time(), 0
            t_note, quiet = time.time(), bar.disable and dist.main  # no bar (a log file): a line a minute instead
            for bi in range(state["batch"], len(mine)):
                x, lengths = _batch(ts, mine[bi], dist.device)
                beta = beta_at(state["step"], cfg)
                torch.manual_seed(cfg.seed * 1_000_003 + state["step"] * dist.world + dist.rank)
                y = _labels(ts, mine[bi], model, dist.device)
                with amp:
                    if cfg.freeze_vae:  # only the head learns: the decoder need not run
                        with torch.no_grad():
                            mu, logvar = model.encode(x, lengths)
                            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
                        rec = torch.zeros((), device=dist.device)
                        pred = model.predict_standardized(mu.float())
                        loss = cfg.property_weight * property_loss(pred, y)
                    else:
                        if y is None:
                            nll, kl, _ = net(x, lengths)
                        else:
                            nll, kl, _, pred = net(x, lengths, props=True)
                        rec, klv = nll.float().mean(), kl_loss(kl.float(), cfg.free_bits)
                        loss = rec + beta * klv
                        if y is not None:
                            loss = loss + cfg.property_weight * property_loss(pred, y)
                opt.zero_grad(set_to_none=True)
                if state.get("skipped_in_a_row", 0) >= 50:
                    save_checkpoint()
                    raise TrainError(f"50 steps in a row had a non-finite loss or gradient (step {state['step']});"
                                     " lower --lr or check the data; the last good checkpoint is kept")
                if not dist.any(not bool(torch.isfinite(loss))):
                    loss.backward()
                    gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                    if torch.isfinite(gnorm):
                        opt.step()
                        state["skipped_in_a_row"] = 0
                    else:
                        state["skipped_in_a_row"] = state.get("skipped_in_a_row", 0) + 1
                        state["skipped_steps"] += 1
                        log(f"warning: non-finite gradient at step {state['step']}; step skipped")
                else:
                    state["skipped_steps"] += 1
                    state["skipped_in_a_row"] = state.get("skipped_in_a_row", 0) + 1
                    log(f"warning: non-finite loss at step {state['step']}; step skipped")
                state["step"] += 1
                state["batch"] = bi + 1
                state["seen"] += len(lengths) * dist.world
                seen_epoch += len(lengths) * dist.world
                bar.update(1)
                if state["step"] % 20 == 0:
                    bar.set_postfix(rec=f"{rec.item():.2f}", kl=f"{kl.float().mean(0).sum().item():.1f}",
                                    beta=f"{beta:.3f}")
                now = time.time()
                if quiet and now - t_note >= 60:
                    t_note = now
                    log(f"epoch {epoch + 1}, batch {bi + 1}/{len(mine)}, step {state['step']}: rec {rec.item():.3f},"
                        f" kl {kl.float().mean(0).sum().item():.2f}, beta {beta:.3f},"
                        f" {seen_epoch / max(1e-9, now - t_epoch):.0f} molecules/s")
                over = dist.any(bool(interrupted or (cfg.max_minutes and now - t_run > cfg.max_minutes * 60)))
                if over or dist.any(now - t_last_ckpt > cfg.checkpoint_minutes * 60):
                    state["train_seconds"] += now - t_last_ckpt
                    t_last_ckpt = now
                    save_checkpoint()
                if over:
                    why = "stopped by a signal" if interrupted else f"time budget of {cfg.max_minutes} minutes reached"
                    log(f"{why} at epoch {epoch + 1}, batch {bi + 1}/{len(mine)}; checkpoint written,"
                        " resume with --resume")
                    stop = True
                    break
            bar.close()
            if stop:
                break
            rate = seen_epoch / max(1e-9, time.time() - t_epoch)
            state["epoch"] += 1
            state["batch"] = 0
            if dist.main:
                m = {"epoch": state["epoch"], "step": state["step"], "beta": round(beta_at(state["step"], cfg), 4),
                     "train_rec": round(rec.item(), 4), "molecules_per_s": round(rate, 1),
                     "lr": opt.param_groups[0]["lr"]}
                if len(val_rows):
                    m.update(evaluate(model, ts, val_rows, cfg.batch_size, cfg.recon_eval, dist.device))
                last_metrics = m
                with open(metrics_path, "a") as fh:
                    fh.write(json.dumps(m) + "\n")
                log(f"epoch {state['epoch']}: " + ", ".join(f"{k} {v}" for k, v in m.items() if k != "kl_per_dim"))
                if len(val_rows):
                    from .viz import training_curves

                    training_curves(metrics_path, out / "training_curves.png")
            for g in opt.param_groups:
                g["lr"] *= cfg.lr_decay
            state["train_seconds"] += time.time() - t_last_ckpt
            t_last_ckpt = time.time()
            save_checkpoint()
            if dist.main:
                prov, met, card, name = record()
                checkpoint.save_model(out / "model", model, vocab, prov, met, name=name, card_extra=card,
                                      training_hashes=ts.hashes if base_hashes is None else base_hashes)
            dist.barrier()
        return out / "model"


def _set_label_scale(model: VAE, ts: data.TokenizedSet, rows: np.ndarray) -> None:
    """Standardize the head's targets with the training rows' mean and sd (over the values present)."""
    if not model.cfg.properties:
        return
    y = np.asarray(ts.props[np.sort(rows)], dtype=np.float64)
    with np.errstate(all="ignore"):
        mean, sd = np.nanmean(y, 0), np.nanstd(y, 0)
    sd = np.where(np.isfinite(sd) & (sd > 1e-8), sd, 1.0)
    model.prop_mean.copy_(torch.as_tensor(np.nan_to_num(mean), dtype=torch.float32))
    model.prop_std.copy_(torch.as_tensor(sd, dtype=torch.float32))


def read_metrics(path) -> list[dict]:
    """The per-epoch metrics of a run; a damaged line (a crash mid-write) is passed over."""
    rows = []
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return rows
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


@contextmanager
def _stop_requests():
    """SIGTERM or Ctrl-C during training: note it, so the loop checkpoints at the next step and stops cleanly."""
    import threading

    seen: list = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return
    previous = {sig: signal.signal(sig, lambda signum, frame: seen.append(signum))
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield seen
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

