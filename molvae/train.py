"""The one training loop: KL schedule, free bits, gradient clipping, validation, checkpoints, resume."""
from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch

from . import __version__, checkpoint, data, tokens
from .model import VAE, ModelConfig, active_units, kl_loss
from .tokens import Vocab


class TrainError(ValueError):
    """A user-facing problem with a training run (bad settings, nothing to resume, no usable data)."""


@dataclass
class TrainConfig:
    data: str = ""
    out: str = ""
    smiles_column: str | None = None
    epochs: int = 10
    batch_size: int = 256
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

    def validate(self) -> None:
        if not self.data:
            raise TrainError("--data is required")
        if not self.out:
            raise TrainError("--out is required")
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


def _prepare(cfg: TrainConfig, out: Path, vocab: Vocab | None, log) -> tuple[Vocab, data.TokenizedSet, str]:
    """Read, encode and cache the training set. Rows that cannot be used are counted by reason."""
    sha = file_sha256(cfg.data)
    cache = out / "cache" / f"tokens-{sha[:16]}.npz"
    if cache.exists() and vocab is not None:
        z = np.load(cache, allow_pickle=False)
        if list(z["vocab"]) == list(vocab.tokens):
            log(f"tokenized data from cache {cache}")
            return vocab, data.TokenizedSet(z["ids"], z["lengths"], list(z["smiles"]),
                                            json.loads(str(z["skipped"]))), sha
    smiles = data.read_smiles(cfg.data, cfg.smiles_column)
    log(f"read {len(smiles)} rows from {cfg.data}; encoding as SELFIES")
    from tqdm import tqdm

    selfies = []
    for i, smi in enumerate(tqdm(smiles, desc="encode", unit="mol", mininterval=5, disable=None)):
        canon, s, _ = tokens.canonical_selfies(smi)
        selfies.append(s)
        if s is not None:
            smiles[i] = canon
    if vocab is None:
        good = [s for s in selfies if s]
        if not good:
            raise TrainError(f"no usable molecules in {cfg.data}")
        vocab = Vocab.build(good, cfg.max_len or None)
    ts = data.tokenize(smiles, vocab, selfies)  # counts the reason for every row it leaves out
    if len(ts) == 0:
        raise TrainError(f"no usable molecules in {cfg.data}")
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_name(cache.name + ".tmp.npz")
    np.savez(tmp, ids=ts.ids, lengths=ts.lengths, smiles=np.array(ts.smiles), vocab=np.array(vocab.tokens),
             skipped=json.dumps(ts.skipped))
    tmp.replace(cache)
    return vocab, ts, sha


def _batch(ts: data.TokenizedSet, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = ts.lengths[idx].astype(np.int64)
    x = torch.from_numpy(ts.ids[idx, : lengths.max()].astype(np.int64))
    return x, torch.from_numpy(lengths)


@torch.no_grad()
def evaluate(model: VAE, ts: data.TokenizedSet, batch_size: int, recon_n: int) -> dict:
    """Validation ELBO terms (mu for the decoder, as in reporting), KL per dimension, active units and
    exact greedy reconstruction of the first `recon_n` molecules."""
    model.eval()
    nll_sum, kl_dims, mus, exact, n = 0.0, None, [], 0, len(ts)
    order = np.argsort(ts.lengths, kind="stable")
    for s in range(0, n, batch_size):
        idx = order[s : s + batch_size]
        x, lengths = _batch(ts, idx)
        nll, kl, mu = model(x, lengths, sample=True)
        nll_sum += float(nll.sum())
        kl_dims = kl.sum(0) if kl_dims is None else kl_dims + kl.sum(0)
        mus.append(mu)
    mu = torch.cat(mus)
    recon_idx = np.arange(min(recon_n, n))
    for s in range(0, len(recon_idx), batch_size):
        idx = recon_idx[s : s + batch_size]
        x, lengths = _batch(ts, idx)
        m, _ = model.encode(x, lengths)
        out, _ = model.generate(m, greedy=True)
        T = x.shape[1]
        same = (out[:, :T] == x).all(1) & ((out[:, T:] == 0).all(1) if out.shape[1] > T else True)
        exact += int(same.sum())
    kl_per_dim = (kl_dims / n).tolist()
    model.train()
    return {
        "val_nll": round(nll_sum / n, 4), "val_kl": round(sum(kl_per_dim), 4),
        "val_elbo": round(-(nll_sum / n + sum(kl_per_dim)), 4),
        "val_recon_exact": round(exact / max(1, len(recon_idx)), 4),
        "active_units": active_units(mu), "kl_per_dim": [round(v, 4) for v in kl_per_dim],
    }


def train(cfg: TrainConfig, resume: bool = False, command: str = "", log=print) -> Path:
    """Train (or resume) a model into cfg.out. Returns the exported model directory."""
    cfg.validate()
    out = Path(cfg.out)
    ckpt_dir = checkpoint.existing_dir(out / "checkpoint")
    if resume and ckpt_dir is None:
        raise TrainError(f"nothing to resume: no checkpoint in {out}")
    if not resume and ckpt_dir is not None:
        raise TrainError(f"{out} already holds a training run; pass --resume or choose another --out")
    if not Path(cfg.data).is_file():
        raise TrainError(f"training data not found: {cfg.data}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"0" * 65536)
        probe.unlink()
    except OSError as exc:
        raise TrainError(f"cannot write to {out}: {exc.strerror or exc}") from None
    if cfg.threads:
        torch.set_num_threads(cfg.threads)

    model = state = vocab = None
    if resume:
        model, vocab, meta = checkpoint.load_model(ckpt_dir)
        model.train()
    vocab, ts, sha = _prepare(cfg, out, vocab, log)
    skipped = sum(ts.skipped.values())
    if skipped:
        log(f"skipped {skipped} rows: " + ", ".join(f"{k} {v}" for k, v in sorted(ts.skipped.items())))
    rng = np.random.default_rng(cfg.seed)
    perm = rng.permutation(len(ts))
    n_val = min(cfg.val_max, int(len(ts) * cfg.val_fraction))
    val, trn = ts.subset(perm[:n_val]), ts.subset(perm[n_val:])
    log(f"{len(trn)} training and {len(val)} validation molecules; vocabulary {len(vocab)} tokens,"
        f" at most {vocab.max_len - 1} tokens a molecule")

    if model is None:
        torch.manual_seed(cfg.seed)
        model = VAE(ModelConfig(vocab_size=len(vocab), max_len=vocab.max_len, emb_dim=cfg.emb_dim,
                                enc_hidden=cfg.enc_hidden_dim, enc_layers=cfg.enc_layers,
                                bidirectional=cfg.bidirectional, latent_dim=cfg.latent_dim,
                                dec_hidden=cfg.hidden_dim, dec_layers=cfg.dec_layers, dropout=cfg.dropout))
        model.train()
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    state = {"epoch": 0, "batch": 0, "step": 0, "seen": 0, "train_seconds": 0.0, "skipped_steps": 0}
    if resume:
        state.update(checkpoint.load_training_state(ckpt_dir, opt))
        for g in opt.param_groups:  # settings given now win over the saved ones
            g["lr"] = cfg.lr * cfg.lr_decay ** state["epoch"]
        log(f"resumed from {ckpt_dir}: epoch {state['epoch'] + 1}, batch {state['batch']}, step {state['step']}")
    (out / "config.json").write_text(json.dumps({**asdict(cfg), "command": command}, indent=2) + "\n")

    provenance = {"data": str(cfg.data), "data_sha256": sha, "data_rows_used": len(ts),
                  "data_rows_skipped": ts.skipped, "command": command, "versions": versions(),
                  "device": f"{platform.machine()} CPU, {torch.get_num_threads()} threads"}
    metrics_path = out / "metrics.jsonl"
    last_metrics: dict = {}
    if metrics_path.exists():
        lines = [ln for ln in metrics_path.read_text().splitlines() if ln.strip()]
        last_metrics = json.loads(lines[-1]) if lines else {}

    def summary(extra: dict) -> dict:
        keep = {k: v for k, v in {**last_metrics, **extra}.items() if k != "kl_per_dim"}
        keep.update(epochs=state["epoch"], molecules_seen=state["seen"],
                    train_minutes=round(state["train_seconds"] / 60, 1))
        return keep

    def save_checkpoint():
        checkpoint.save_model(out / "checkpoint", model, vocab, provenance, summary({}), name=out.name,
                              optimizer=opt, train_state=state)

    from tqdm import tqdm

    t_run = time.time()
    t_last_ckpt = time.time()
    stop = False
    while state["epoch"] < cfg.epochs and not stop:
        epoch = state["epoch"]
        batches = data.bucketed_batches(trn.lengths, cfg.batch_size, np.random.default_rng(cfg.seed * 7919 + epoch))
        bar = tqdm(total=len(batches), initial=state["batch"], desc=f"epoch {epoch + 1}/{cfg.epochs}",
                   unit="batch", mininterval=2 if sys.stderr.isatty() else 60, disable=None)
        t_epoch, seen_epoch = time.time(), 0
        for bi in range(state["batch"], len(batches)):
            x, lengths = _batch(trn, batches[bi])
            beta = beta_at(state["step"], cfg)
            torch.manual_seed(cfg.seed * 1_000_003 + state["step"])
            nll, kl, _ = model(x, lengths)
            rec, klv = nll.mean(), kl_loss(kl, cfg.free_bits)
            loss = rec + beta * klv
            opt.zero_grad(set_to_none=True)
            if not torch.isfinite(loss):
                state["skipped_steps"] += 1
                log(f"warning: non-finite loss at step {state['step']}; step skipped")
            else:
                loss.backward()
                gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                if torch.isfinite(gnorm):
                    opt.step()
                else:
                    state["skipped_steps"] += 1
                    log(f"warning: non-finite gradient at step {state['step']}; step skipped")
            state["step"] += 1
            state["batch"] = bi + 1
            state["seen"] += len(lengths)
            seen_epoch += len(lengths)
            bar.update(1)
            if state["step"] % 20 == 0:
                bar.set_postfix(rec=f"{rec.item():.2f}", kl=f"{kl.mean(0).sum().item():.1f}", beta=f"{beta:.3f}")
            now = time.time()
            over = cfg.max_minutes and now - t_run > cfg.max_minutes * 60
            if over or now - t_last_ckpt > cfg.checkpoint_minutes * 60:
                state["train_seconds"] += now - t_last_ckpt
                t_last_ckpt = now
                save_checkpoint()
            if over:
                log(f"time budget of {cfg.max_minutes} minutes reached at epoch {epoch + 1},"
                    f" batch {bi + 1}/{len(batches)}; resume with --resume")
                stop = True
                break
        bar.close()
        if stop:
            break
        rate = seen_epoch / max(1e-9, time.time() - t_epoch)
        state["epoch"] += 1
        state["batch"] = 0
        m = {"epoch": state["epoch"], "step": state["step"], "beta": round(beta_at(state["step"], cfg), 4),
             "train_rec": round(rec.item(), 4), "molecules_per_s": round(rate, 1),
             "lr": opt.param_groups[0]["lr"]}
        if len(val):
            m.update(evaluate(model, val, cfg.batch_size, cfg.recon_eval))
        last_metrics = m
        with open(metrics_path, "a") as fh:
            fh.write(json.dumps(m) + "\n")
        log(f"epoch {state['epoch']}: " + ", ".join(f"{k} {v}" for k, v in m.items() if k != "kl_per_dim"))
        if len(val):
            from .viz import training_curves

            training_curves(metrics_path, out / "training_curves.png")
        for g in opt.param_groups:
            g["lr"] *= cfg.lr_decay
        state["train_seconds"] += time.time() - t_last_ckpt
        t_last_ckpt = time.time()
        save_checkpoint()
        export(out, model, vocab, provenance, summary({}), ts.smiles)
    return out / "model"


def export(out: Path, model: VAE, vocab: Vocab, provenance: dict, metrics: dict, training_smiles) -> None:
    """Write the usable model directory out/model, with the training set's hashes for novelty checks."""
    checkpoint.save_model(out / "model", model, vocab, provenance, metrics, name=out.name)
    checkpoint.save_training_set(out / "model", training_smiles)
