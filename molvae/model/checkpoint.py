"""Model directories: weights as safetensors, config + vocabulary + provenance as JSON. Nothing is unpickled.

A model directory holds `model.safetensors`, `model.json` and a `MODEL_CARD.md`. A training checkpoint is a
model directory plus `optimizer.safetensors` and `train_state.json`. Directories are written next to their
destination and renamed into place, so a crash never leaves a half-written one behind.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ..chem import mol as chem
from ..io.atomic import atomic_path, write_json
from .vae import VAE, ModelConfig
from .tokens import Vocab
from ..errors import MolvaeError

FORMAT = "molvae-model"
FORMAT_VERSION = 1


class ModelError(MolvaeError):
    """A model directory that cannot be used: missing, damaged, or from an incompatible version."""


# Sizes a model description may claim (far above any trained model's), checked before anything is allocated.
SIZE_LIMITS = {"vocab_size": 10_000, "max_len": 1_000, "emb_dim": 4_096, "enc_hidden": 4_096, "enc_layers": 8,
               "latent_dim": 2_048, "dec_hidden": 4_096, "dec_layers": 8}
MAX_PARAMETERS = 300_000_000
MAX_MODEL_JSON = 16 << 20  # bytes


def check_sizes(cfg: ModelConfig, weights: Path) -> None:
    """Refuse a model.json whose sizes exceed SIZE_LIMITS or do not match the weights file's header: the
    module is laid out on PyTorch's meta device (no memory) and compared with the safetensors header (read
    without the tensors), so a hostile description costs nothing to reject."""
    for name, limit in SIZE_LIMITS.items():
        if getattr(cfg, name) > limit:
            raise ModelError(f"model.json claims {name} {getattr(cfg, name)}, above the limit of {limit}")
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in VAE(cfg).state_dict().items()}
    n = sum(int(np.prod(s)) for s in expected.values())
    if n > MAX_PARAMETERS:
        raise ModelError(f"model.json describes {n:,} parameters, above the limit of {MAX_PARAMETERS:,}")
    try:
        with safe_open(str(weights), "pt") as fh:
            found = {k: tuple(fh.get_slice(k).get_shape()) for k in fh.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"damaged weights file {weights}: {str(exc).splitlines()[0]}") from None
    missing, extra = set(expected) - set(found), set(found) - set(expected)
    if missing or extra:
        raise ModelError(f"weights do not match the config: missing {sorted(missing)[:3]}, unexpected {sorted(extra)[:3]}")
    for k, shape in expected.items():
        if found[k] != shape:
            raise ModelError(f"weight {k} has shape {found[k]}, config implies {shape}"
                             " (vocabulary or sizes do not match the weights)")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _write_dir_atomically(dest: Path, write) -> None:
    """Call write(tmpdir), then swap tmpdir into dest; the old dest survives as dest.old until the swap ends."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp, old = dest.with_name(dest.name + ".tmp"), dest.with_name(dest.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    write(tmp)
    for f in tmp.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    _fsync_dir(tmp)
    if dest.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dest, old)
    os.replace(tmp, dest)
    _fsync_dir(dest.parent)
    shutil.rmtree(old, ignore_errors=True)


def existing_dir(dest: Path) -> Path | None:
    """The directory to read for dest: dest itself, or dest.old when a crash interrupted a swap."""
    dest = Path(dest)
    old = dest.with_name(dest.name + ".old")
    return dest if dest.is_dir() else (old if old.is_dir() else None)


def model_card(meta: dict) -> str:
    cfg, prov, m = meta["config"], meta.get("provenance", {}), meta.get("metrics", {})
    lines = [
        f"# molvae model: {meta.get('name', 'unnamed')}", "",
        "A SELFIES GRU variational autoencoder (molvae). Weights: `model.safetensors`; config, vocabulary and",
        "provenance: `model.json`. Nothing in this directory is executed or unpickled when it is loaded.", "",
        "## Architecture",
        f"- embedding {cfg['emb_dim']}, encoder GRU {cfg['enc_hidden']} x {cfg['enc_layers']}"
        f"{' bidirectional' if cfg['bidirectional'] else ''}, latent {cfg['latent_dim']},"
        f" decoder GRU {cfg['dec_hidden']} x {cfg['dec_layers']} (fed z at every step)",
        f"- vocabulary {cfg['vocab_size']} SELFIES tokens, at most {cfg['max_len'] - 1} tokens a molecule",
        f"- parameters: {meta.get('parameters', '?')}",
        *([f"- property head (MLP on the latent mean): {', '.join(cfg['properties'])}; `molvae score` reports"
           " them as pred_<name>"] if cfg.get("properties") else []), "",
        "## Training",
        f"- data: `{prov.get('data', '?')}` (sha256 {str(prov.get('data_sha256', '?'))[:16]}...)",
        f"- command: `{prov.get('command', '?')}`",
        f"- seen: {m.get('molecules_seen', '?')} molecules in {m.get('epochs', '?')} epochs,"
        f" {m.get('train_minutes', '?')} minutes on {prov.get('device', '?')}",
        *([f"- property head: trained afterwards with the VAE frozen, on `{prov['property_head'].get('data', '?')}`"
           f" ({prov['property_head'].get('data_rows_used', '?')} molecules, {prov['property_head'].get('epochs', '?')}"
           f" epochs, {prov['property_head'].get('device', '?')}): `{prov['property_head'].get('command', '?')}`"]
          if isinstance(prov.get("property_head"), dict) else []), "",
        "## Validation (last epoch)",
    ]
    lines += [f"- {k}: {v}" for k, v in m.items() if k.startswith("val_") or k in ("active_units", "kl_above_floor", "beta")]
    lines += ["", "## Versions", *[f"- {k}: {v}" for k, v in prov.get("versions", {}).items()], ""]
    extra = meta.get("card_extra")
    return "\n".join(lines) + (("\n" + extra + "\n") if extra else "")


def save_model(dest, model: VAE, vocab: Vocab, provenance: dict, metrics: dict, name: str = "molvae",
               optimizer: torch.optim.Optimizer | None = None, train_state: dict | None = None,
               card_extra: str | None = None, training_hashes: np.ndarray | None = None) -> None:
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "name": name,
        "config": model.cfg.to_json(), "vocab": vocab.to_json(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "provenance": provenance, "metrics": metrics,
    }
    if card_extra:
        meta["card_extra"] = card_extra

    def write(tmp: Path):
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
                  str(tmp / "model.safetensors"))
        write_json(tmp / "model.json", meta, fsync=True)
        (tmp / "MODEL_CARD.md").write_text(model_card(meta))
        if training_hashes is not None:
            save_training_set(tmp, hashes=training_hashes)
        if optimizer is not None:
            tensors, groups = optimizer_to_tensors(optimizer)
            save_file(tensors, str(tmp / "optimizer.safetensors"))
            write_json(tmp / "train_state.json", {**(train_state or {}), "param_groups": groups}, fsync=True)

    _write_dir_atomically(Path(dest), write)


def optimizer_to_tensors(opt: torch.optim.Optimizer) -> tuple[dict, list]:
    sd = opt.state_dict()
    tensors = {}
    for idx, st in sd["state"].items():
        for key, val in st.items():
            t = val if torch.is_tensor(val) else torch.tensor(val)
            tensors[f"{idx}.{key}"] = t.detach().cpu().contiguous()
    groups = [{k: v for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, groups


def optimizer_from_tensors(opt: torch.optim.Optimizer, tensors: dict, groups: list) -> None:
    state: dict = {}
    for name, t in tensors.items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = t
    opt.load_state_dict({"state": state, "param_groups": groups})


TRAINING_SET = "training_set.npy"


def save_training_set(model_dir, canonical_smiles=None, hashes: np.ndarray | None = None) -> None:
    """Store the sorted hashes of the training molecules next to the weights (for novelty checks)."""
    h = np.unique(hashes if hashes is not None else chem.smiles_hashes(canonical_smiles))
    with atomic_path(Path(model_dir) / TRAINING_SET, suffix=".npy") as tmp:
        np.save(tmp, h, allow_pickle=False)


def training_set_paths(model_dir) -> list[Path]:
    """Where a model's training-set hashes are: its own training_set.npy, and that of the sibling model named by
    `training_set_shared_with` in model.json (a bare name, so the shared file stays inside the same models
    folder) for a model trained on that model's molecules too (`fast` on all of them, a fine-tuned model on its
    own data after them). The training set is the union of the files that exist."""
    d = Path(model_dir)
    own = [d / TRAINING_SET] if (d / TRAINING_SET).exists() else []
    if not (d / "model.json").exists():
        return own
    shared = read_meta(d)[1].get("training_set_shared_with")
    if shared is None:
        return own
    if not isinstance(shared, str) or not shared or Path(shared).name != shared or shared in (".", ".."):
        raise ModelError(f"{d / 'model.json'}: training_set_shared_with must name a sibling model, got {shared!r}")
    sibling = d.parent / shared / TRAINING_SET
    return own + ([sibling] if sibling.exists() else [])


def _read_hashes(p: Path) -> np.ndarray:
    try:
        h = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ModelError(f"damaged {p}: {str(exc).splitlines()[0]}") from None
    if h.dtype != np.uint64 or h.ndim != 1:
        raise ModelError(f"damaged {p}: expected a 1-d uint64 array")
    return h


def load_training_set(model_dir) -> np.ndarray | None:
    """The sorted hashes of a model's training molecules (training_set_paths), or None when it has none."""
    sets = [_read_hashes(p) for p in training_set_paths(model_dir)]
    if not sets:
        return None
    return sets[0] if len(sets) == 1 else np.union1d(*sets)


BUNDLED_MODELS = Path(__file__).parent.parent / "models"
DEFAULT_MODEL = "broad"  # the bundled model that `default` (and no model at all) names


def bundled_models() -> list[str]:
    """Names usable wherever a model path is: `default` and the models that ship with molvae (molvae/models/NAME)."""
    names = sorted(d.name for d in BUNDLED_MODELS.iterdir() if (d / "model.json").exists()) \
        if BUNDLED_MODELS.is_dir() else []
    return ["default", *names] if DEFAULT_MODEL in names else names


def bundled_dir(name: str) -> Path:
    """The directory of a bundled model's name (`default` is DEFAULT_MODEL's)."""
    return BUNDLED_MODELS / (DEFAULT_MODEL if name == "default" else name)


def resolve_model_dir(path) -> Path:
    """Accept a model directory, a training output directory (uses its model/ or checkpoint/), .old, or the
    name of a bundled model (`default`, `fast`, `moses`) where no file or directory of that name exists."""
    p = Path(path)
    if not p.exists() and str(path) in bundled_models():
        return bundled_dir(str(path))
    if not p.exists():
        known = ", ".join(bundled_models())
        raise ModelError(f"model not found: {p}" + (f" (bundled models: {known})" if known else ""))
    if (p / "model.json").exists():
        return p
    for sub in ("model", "checkpoint"):
        d = existing_dir(p / sub)
        if d is not None and (d / "model.json").exists():
            return d
    raise ModelError(f"not a molvae model directory (no model.json): {p}")


def read_meta(path) -> tuple[Path, dict]:
    d = resolve_model_dir(path)
    if (d / "model.json").stat().st_size > MAX_MODEL_JSON:
        raise ModelError(f"{d / 'model.json'} is larger than {MAX_MODEL_JSON >> 20} MB: not a molvae model description")
    try:
        meta = json.loads((d / "model.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"damaged model.json in {d}: {str(exc).splitlines()[0]}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelError(f"{d / 'model.json'} is not a molvae model description")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelError(f"model format version {version} is newer than this molvae reads ({FORMAT_VERSION});"
                         " upgrade molvae")
    return d, meta


def load_model(path) -> tuple[VAE, Vocab, dict]:
    """Load (model in eval mode, vocabulary, metadata). Every failure is a ModelError with one line."""
    d, meta = read_meta(path)
    try:
        cfg = ModelConfig.from_json(meta["config"])
        vocab = Vocab.from_json(meta["vocab"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"bad config or vocabulary in {d / 'model.json'}: {exc}") from None
    if len(vocab) != cfg.vocab_size:
        raise ModelError(f"vocabulary has {len(vocab)} tokens but the model expects {cfg.vocab_size}")
    if vocab.max_len != cfg.max_len:
        raise ModelError(f"vocabulary length limit {vocab.max_len} does not match the model's {cfg.max_len}")
    wfile = d / "model.safetensors"
    if not wfile.exists():
        raise ModelError(f"missing weights file {wfile}")
    check_sizes(cfg, wfile)
    try:
        state = load_file(str(wfile))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"damaged weights file {wfile}: {str(exc).splitlines()[0]}") from None
    try:
        model = VAE(cfg)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise ModelError(f"cannot build the model described in {d / 'model.json'}: {exc}") from None
    expected = model.state_dict()
    for k in expected:
        if not torch.isfinite(state[k]).all():
            raise ModelError(f"weight {k} contains NaN or inf")
    model.load_state_dict(state)
    model.eval()
    return model, vocab, meta


def load_training_state(path, optimizer: torch.optim.Optimizer) -> dict:
    d = Path(path)
    try:
        tensors = load_file(str(d / "optimizer.safetensors"))
        state = json.loads((d / "train_state.json").read_text())
        if not isinstance(state, dict):
            raise MolvaeError("train_state.json is not an object")
        optimizer_from_tensors(optimizer, tensors, state.pop("param_groups"))
    except (SafetensorError, OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"cannot resume from {d}: {str(exc).splitlines()[0]}") from None
    return state
