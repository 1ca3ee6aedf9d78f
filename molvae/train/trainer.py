"""The one training loop: KL schedule, free bits, gradient clipping, validation, checkpoints, resume.

The same loop runs on one CPU, one GPU, or several processes under torchrun (DistributedDataParallel: gloo on
CPU, NCCL on GPUs): each rank trains on its share of every epoch's batches, and only rank 0 validates and
writes checkpoints, metrics and the exported model. Settings live in molvae.train.config, data preparation in
molvae.train.prepare, the process group in molvae.train.distributed.
"""
from __future__ import annotations

import json
import os
import platform
import signal
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..model import checkpoint
from . import data
from .config import TrainConfig, TrainError, beta_at, parse_properties  # noqa: F401  (re-exported)
from ..model.device import bf16_autocast
from .distributed import Dist
from ..model.vae import VAE, ModelConfig, active_units, batch_loss, dims_above_floor, grow_vocab, kl_per_dim, property_loss
from .prepare import prepare
from ..model.tokens import Vocab, parent_token



def versions() -> dict:
    import rdkit
    import selfies

    return {"molvae": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "rdkit": rdkit.__version__, "selfies": selfies.__version__, "numpy": np.__version__}


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


def _r2(pred: torch.Tensor, y: torch.Tensor, names) -> dict:
    """Coefficient of determination per property over the labels present."""
    out = {}
    for j, name in enumerate(names):
        seen = torch.isfinite(y[:, j])
        if seen.sum() > 1:
            yt, pt = y[seen, j], pred[seen, j]
            out[name] = round(float(1 - (yt - pt).pow(2).sum() / (yt - yt.mean()).pow(2).sum().clamp(min=1e-12)), 4)
    return out


@torch.no_grad()
def validate(model: VAE, ts: data.TokenizedSet, rows: np.ndarray, batch_size: int, recon_n: int,
             device=torch.device("cpu"), free_bits: float = 0.1) -> dict:
    """Validation ELBO terms, KL per dimension, active units, the dimensions whose KL is more than twice the
    free-bits floor (``kl_above_floor``) and exact greedy reconstruction (token for token) of the first
    `recon_n` molecules."""
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
    prop_r2 = _r2(torch.cat(preds), torch.cat(labels), model.cfg.properties) if preds else {}
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
        "active_units": active_units(mu), "kl_above_floor": dims_above_floor(kl_per_dim, free_bits),
        "kl_per_dim": [round(v, 4) for v in kl_per_dim],
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
    if not Path(cfg.data).is_file():
        raise TrainError(f"training data not found: {cfg.data}")
    dist = Dist(cfg.device)
    try:
        trainer = Trainer(cfg, resume, command, log if dist.main else (lambda m: None), dist, workers)
        return trainer.run()
    finally:
        dist.close()


class Trainer:
    """One training run: data, model and optimizer set up (or restored) in __init__, then epochs in run()."""

    def __init__(self, cfg: TrainConfig, resume: bool, command: str, log, dist: Dist, workers: int):
        self.cfg, self.resume, self.command, self.log, self.dist = cfg, resume, command, log, dist
        self.out = out = Path(cfg.out)
        self.ckpt_dir = _check_out(out, resume) if dist.main else checkpoint.existing_dir(out / "checkpoint")
        dist.barrier()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        model, vocab = self._load_start()
        self.start_vocab = vocab
        self._load_data(vocab, workers)
        self.model = self._build_model(model)
        self.model.to(dist.device).train()
        self.net = self.model
        if dist.world > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[dist.device.index] if dist.device.type == "cuda" else None)
        self.opt = torch.optim.Adam([p for p in self.model.parameters() if p.requires_grad], lr=cfg.lr)
        self.state = self._restore()
        if dist.main:
            (out / "config.json").write_text(json.dumps({**asdict(cfg), "command": command}, indent=2) + "\n")
        self.amp = bf16_autocast(dist.device, cfg.amp)
        self.provenance = self._provenance()
        self.base_meta = checkpoint.read_meta(cfg.init_from)[1] if cfg.freeze_vae else None
        self.base_hashes = checkpoint.load_training_set(cfg.init_from) if cfg.freeze_vae else None
        self.metrics_path = out / "metrics.jsonl"
        self.last_metrics: dict = {}
        if dist.main:
            rows = read_metrics(self.metrics_path) if resume else []
            rows = [r for r in rows if r.get("epoch", 0) <= self.state["epoch"]]
            self.metrics_path.write_text("".join(json.dumps(r) + "\n" for r in rows))
            self.last_metrics = rows[-1] if rows else {}
        self.rec = self.kl = torch.zeros(())

    # -- set-up ----------------------------------------------------------------------------------------
    def _load_start(self):
        """The weights to start from: the checkpoint when resuming, --init-from's model, or none."""
        if self.resume:
            model, vocab, _ = checkpoint.load_model(self.ckpt_dir)
            return model, vocab
        if self.cfg.init_from:
            model, vocab, _ = checkpoint.load_model(self.cfg.init_from)
            self.log(f"starting from the weights of {self.cfg.init_from}")
            return model, vocab
        return None, None

    def _load_data(self, vocab, workers: int) -> None:
        cfg, dist, log = self.cfg, self.dist, self.log
        if dist.main:
            vocab, ts = prepare(cfg.data, self.out, cfg.smiles_column, vocab, cfg.max_len, workers, log,
                                cfg.properties, extend=cfg.extend_vocab, standardize=cfg.standardize)
        dist.barrier()
        if not dist.main:
            ts, meta = data.TokenizedSet.load(self.out / "prepared")
            vocab = Vocab(tuple(meta["vocab"]), ts.ids.shape[1])  # the vocabulary the main process prepared with
        skipped = sum(ts.skipped.values())
        if skipped:
            log(f"skipped {skipped} rows: " + ", ".join(f"{k} {v}" for k, v in sorted(ts.skipped.items())))
        self.val_rows, self.trn_rows = data.carve(ts, cfg.seed, cfg.val_fraction, cfg.val_max)
        self.vocab, self.ts = vocab, ts
        log(f"{len(self.trn_rows)} training and {len(self.val_rows)} validation molecules"
            f"{' (the split column)' if ts.valid is not None else ''}; vocabulary"
            f" {len(vocab)} tokens, at most {vocab.max_len - 1} tokens a molecule; {dist.world} process(es) on"
            f" {dist.device}")

    def _build_model(self, model: VAE | None) -> VAE:
        """A new model, the start model with a new (or no) property head, or the start model as it is."""
        cfg, ts = self.cfg, self.ts
        if model is None:
            torch.manual_seed(cfg.seed)
            model = VAE(ModelConfig(vocab_size=len(self.vocab), max_len=self.vocab.max_len, emb_dim=cfg.emb_dim,
                                    enc_hidden=cfg.enc_hidden, enc_layers=cfg.enc_layers,
                                    bidirectional=cfg.bidirectional, latent_dim=cfg.latent_dim,
                                    dec_hidden=cfg.dec_hidden, dec_layers=cfg.dec_layers, dropout=cfg.dropout,
                                    properties=tuple(cfg.properties)))
            _set_label_scale(model, ts, self.trn_rows)
        else:
            model = self._grown(model)
        if not self.resume and tuple(cfg.properties) != model.cfg.properties:  # init_from: a new (or no) head
            torch.manual_seed(cfg.seed)
            base = model
            model = VAE(ModelConfig(**{**base.cfg.to_json(), "properties": tuple(cfg.properties)}))
            model.load_state_dict({k: v for k, v in base.state_dict().items() if not k.startswith("prop_")},
                                  strict=False)
            _set_label_scale(model, ts, self.trn_rows)
        if model.cfg.dropout != cfg.dropout:  # a run's dropout rate is its own, not the start model's
            self.log(f"dropout {model.cfg.dropout:g} -> {cfg.dropout:g}")
            model.set_dropout(cfg.dropout)
        if model.cfg.properties and ts.props is None:
            raise TrainError("the model has a property head but the data has no property labels (--properties)")
        if cfg.freeze_vae:
            if self.dist.world > 1:
                raise TrainError("freeze-vae (a property head alone) trains in one process")
            for name, p in model.named_parameters():
                p.requires_grad_(name.startswith("prop_head."))
            self.log("the VAE's weights are frozen: training the property head only")
        return model

    def _grown(self, model: VAE) -> VAE:
        """The start model with the vocabulary the data was prepared with (--extend-vocab); as it is when that
        vocabulary is the model's own."""
        start, vocab = self.start_vocab, self.vocab
        if vocab == start:
            return model
        if vocab.tokens[:len(start)] != start.tokens:
            raise TrainError("the prepared data's vocabulary does not extend the model's: delete OUT/prepared")
        parents = {i: start.index[parent_token(t)] for i, t in enumerate(vocab.tokens) if i >= len(start)
                   and parent_token(t) in start.index}
        self.log(f"the model's vocabulary grows from {len(start)} to {len(vocab)} tokens ({len(parents)} start from"
                 f" their parent token's weights)")
        return grow_vocab(model, len(vocab), vocab.max_len, parents)

    def _restore(self) -> dict:
        """The loop's position (epoch, batch, step, ...): fresh, or the checkpoint's when resuming."""
        cfg, dist, log = self.cfg, self.dist, self.log
        order = {"seed": cfg.seed, "val_fraction": cfg.val_fraction, "val_max": cfg.val_max, "rows": len(self.ts),
                 "batch_size": cfg.batch_size}
        state = {"epoch": 0, "batch": 0, "step": 0, "seen": 0, "train_seconds": 0.0, "skipped_steps": 0,
                 "world": dist.world, "order": order}
        if not self.resume:
            return state
        saved = checkpoint.load_training_state(self.ckpt_dir, self.opt)
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
        for g in self.opt.param_groups:  # settings given now win over the saved ones
            g["lr"] = cfg.lr * cfg.lr_decay ** state["epoch"]
        log(f"resumed from {self.ckpt_dir}: epoch {state['epoch'] + 1}, batch {state['batch']}, step {state['step']}")
        return state

    def _provenance(self) -> dict:
        dist, ts = self.dist, self.ts
        data_sha = json.loads((self.out / "prepared" / "meta.json").read_text())["source_sha256"]  # by prepare()
        device = (f"{dist.world} x {torch.cuda.get_device_name(dist.device)}" if dist.device.type == "cuda"
                  else f"{dist.world} x {platform.machine()} {dist.device.type.upper()},"
                       f" {torch.get_num_threads()} threads")
        return {"data": str(self.cfg.data), "data_sha256": data_sha, "data_rows_used": len(ts),
                "data_rows_skipped": ts.skipped, "command": self.command, "versions": versions(), "device": device}

    # -- saving ----------------------------------------------------------------------------------------
    def _summary(self) -> dict:
        keep = {k: v for k, v in self.last_metrics.items() if k != "kl_per_dim"}
        keep.update(epochs=self.state["epoch"], molecules_seen=self.state["seen"],
                    train_minutes=round(self.state["train_seconds"] / 60, 1))
        return keep

    def _record(self) -> tuple[dict, dict, str | None, str]:
        """(provenance, metrics, card text, name) for a saved model. A head trained on a frozen VAE keeps
        the VAE's own record, with the head's run beside it."""
        if self.base_meta is None:
            return self.provenance, self._summary(), None, self.out.name
        base = self.base_meta
        head = {**self.provenance, "init_from": str(self.cfg.init_from), **self._summary()}
        return ({**base.get("provenance", {}), "property_head": head},
                {**base.get("metrics", {}), "val_property_r2": self.last_metrics.get("val_property_r2")},
                base.get("card_extra"), base.get("name", self.out.name))

    def save_checkpoint(self) -> None:
        if self.dist.main:
            prov, met, card, name = self._record()
            checkpoint.save_model(self.out / "checkpoint", self.model, self.vocab, prov, met, name=name,
                                  optimizer=self.opt, train_state=self.state, card_extra=card)

    def _export(self) -> None:
        if self.dist.main:
            prov, met, card, name = self._record()
            hashes = self.ts.hashes if self.base_hashes is None else self.base_hashes
            checkpoint.save_model(self.out / "model", self.model, self.vocab, prov, met, name=name,
                                  card_extra=card, training_hashes=hashes)

    # -- the loop --------------------------------------------------------------------------------------
    def run(self) -> Path:
        with _stop_requests() as interrupted:
            self.t_run = self.t_last_ckpt = time.time()
            while self.state["epoch"] < self.cfg.epochs:
                if not self._epoch(interrupted):
                    break
                self._end_epoch()
            return self.out / "model"

    def _loss(self, x, lengths, y, beta: float) -> torch.Tensor:
        """The batch's loss: beta-weighted ELBO (free bits) plus the head's loss; the head's alone when the
        VAE is frozen. Keeps the batch's reconstruction and KL terms for the progress display."""
        cfg, model = self.cfg, self.model
        with self.amp:
            if cfg.freeze_vae:  # only the head learns: the decoder need not run
                with torch.no_grad():
                    mu, logvar = model.encode(x, lengths)
                    self.kl = kl_per_dim(mu, logvar)
                self.rec = torch.zeros((), device=self.dist.device)
                return cfg.property_weight * property_loss(model.predict_standardized(mu.float()), y)
            loss, self.rec, self.kl = batch_loss(self.net, x, lengths, y, beta, cfg.free_bits, cfg.property_weight)
            return loss

    def _apply(self, loss: torch.Tensor) -> None:
        """Backward and step, skipping a step whose loss or gradient is not finite (50 in a row stop the run)."""
        state = self.state
        self.opt.zero_grad(set_to_none=True)
        if state.get("skipped_in_a_row", 0) >= 50:
            self.save_checkpoint()
            raise TrainError(f"50 steps in a row had a non-finite loss or gradient (step {state['step']});"
                             " lower --lr or check the data; the last good checkpoint is kept")
        what = "loss"
        if not self.dist.any(not bool(torch.isfinite(loss))):
            loss.backward()
            gnorm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
            if torch.isfinite(gnorm):
                self.opt.step()
                state["skipped_in_a_row"] = 0
                return
            what = "gradient"
        state["skipped_steps"] += 1
        state["skipped_in_a_row"] = state.get("skipped_in_a_row", 0) + 1
        self.log(f"warning: non-finite {what} at step {state['step']}; step skipped")

    def _epoch(self, interrupted) -> bool:
        """Train the rest of the current epoch; False when stopped early (time budget or a signal)."""
        cfg, dist, state = self.cfg, self.dist, self.state
        epoch = state["epoch"]
        batches = data.bucketed_batches(self.ts.lengths[self.trn_rows], cfg.batch_size,
                                        np.random.default_rng(cfg.seed * 7919 + epoch))
        per_rank = len(batches) // dist.world if dist.world > 1 else len(batches)
        mine = [self.trn_rows[b] for b in batches[dist.rank :: dist.world][:per_rank]]
        from tqdm import tqdm

        bar = tqdm(total=len(mine), initial=state["batch"], desc=f"epoch {epoch + 1}/{cfg.epochs}", unit="batch",
                   mininterval=2 if sys.stderr.isatty() else 60, disable=None if dist.main else True)
        self.t_epoch, self.seen_epoch = time.time(), 0
        t_note, quiet = time.time(), bar.disable and dist.main  # no bar (a log file): a line a minute instead
        try:
            for bi in range(state["batch"], len(mine)):
                x, lengths = _batch(self.ts, mine[bi], dist.device)
                beta = beta_at(state["step"], cfg)
                torch.manual_seed(cfg.seed * 1_000_003 + state["step"] * dist.world + dist.rank)
                self._apply(self._loss(x, lengths, _labels(self.ts, mine[bi], self.model, dist.device), beta))
                state["step"] += 1
                state["batch"] = bi + 1
                state["seen"] += len(lengths) * dist.world
                self.seen_epoch += len(lengths) * dist.world
                bar.update(1)
                kl = self.kl.float().mean(0).sum().item() if self.kl.ndim else 0.0
                if state["step"] % 20 == 0:
                    bar.set_postfix(rec=f"{self.rec.item():.2f}", kl=f"{kl:.1f}", beta=f"{beta:.3f}")
                now = time.time()
                if quiet and now - t_note >= 60:
                    t_note = now
                    self.log(f"epoch {epoch + 1}, batch {bi + 1}/{len(mine)}, step {state['step']}: rec"
                             f" {self.rec.item():.3f}, kl {kl:.2f}, beta {beta:.3f},"
                             f" {self.seen_epoch / max(1e-9, now - self.t_epoch):.0f} molecules/s")
                if self._checkpoint_or_stop(interrupted, now, f"at epoch {epoch + 1}, batch {bi + 1}/{len(mine)}"):
                    return False
        finally:
            bar.close()
        return True

    def _checkpoint_or_stop(self, interrupted, now: float, where: str) -> bool:
        """Checkpoint when it is time to; True (after a checkpoint) when the run must stop here."""
        cfg, dist = self.cfg, self.dist
        over = dist.any(bool(interrupted or (cfg.max_minutes and now - self.t_run > cfg.max_minutes * 60)))
        if over or dist.any(now - self.t_last_ckpt > cfg.checkpoint_minutes * 60):
            self.state["train_seconds"] += now - self.t_last_ckpt
            self.t_last_ckpt = now
            self.save_checkpoint()
        if over:
            why = "stopped by a signal" if interrupted else f"time budget of {cfg.max_minutes} minutes reached"
            self.log(f"{why} {where}; checkpoint written, resume with --resume")
        return bool(over)

    def _end_epoch(self) -> None:
        """Validate, record the epoch's metrics and curves, decay the learning rate, checkpoint, export."""
        cfg, dist, state = self.cfg, self.dist, self.state
        rate = self.seen_epoch / max(1e-9, time.time() - self.t_epoch)
        state["epoch"] += 1
        state["batch"] = 0
        if dist.main:
            m = {"epoch": state["epoch"], "step": state["step"], "beta": round(beta_at(state["step"], cfg), 4),
                 "train_rec": round(self.rec.item(), 4), "molecules_per_s": round(rate, 1),
                 "lr": self.opt.param_groups[0]["lr"]}
            if len(self.val_rows):
                m.update(validate(self.model, self.ts, self.val_rows, cfg.batch_size, cfg.recon_eval, dist.device,
                                  cfg.free_bits))
            self.last_metrics = m
            with open(self.metrics_path, "a") as fh:
                fh.write(json.dumps(m) + "\n")
            self.log(f"epoch {state['epoch']}: " + ", ".join(f"{k} {v}" for k, v in m.items() if k != "kl_per_dim"))
            if len(self.val_rows):
                from ..io.plots import training_curves

                training_curves(read_metrics(self.metrics_path), self.out / "training_curves.png")
        for g in self.opt.param_groups:
            g["lr"] *= cfg.lr_decay
        state["train_seconds"] += time.time() - self.t_last_ckpt
        self.t_last_ckpt = time.time()
        self.save_checkpoint()
        self._export()
        dist.barrier()


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

