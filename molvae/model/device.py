"""Where the model runs: one choice of device for every entry point (API, training, commands)."""
from __future__ import annotations

import torch

from ..errors import MolvaeError

DEVICES = ("cpu", "cuda", "mps", "auto")


def pick_device(device: str) -> str:
    """Resolve 'auto' (CUDA, then MPS, then CPU) and check that an explicit choice is available.
    'cuda:K' names one GPU. ValueError (one line) for an unknown or unavailable device."""
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise MolvaeError(f"device {device} was asked for, but no CUDA GPU is available")
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise MolvaeError("device mps was asked for, but MPS is not available")
    if device not in ("cpu", "mps") and not device.startswith("cuda"):
        raise MolvaeError(f"unknown device '{device}' ({', '.join(DEVICES)})")
    return device


def bf16_autocast(device: torch.device, wanted: bool):
    """The mixed-precision context for training on `device`: bfloat16 autocast on CUDA, and on CPUs with
    native bfloat16 matrix units (AMX or AVX-512 BF16), where it about doubles the GRUs' speed
    (benchmarks/train_speed.py); a no-op elsewhere or when not wanted. Weights and the optimizer stay float32."""
    from contextlib import nullcontext

    if wanted and (device.type == "cuda" or (device.type == "cpu" and cpu_has_bf16())):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 matrix products natively (AMX tiles or AVX-512 BF16)."""
    probe = getattr(torch, "cpu", None)
    try:
        return bool(probe._is_amx_tile_supported() or probe._is_avx512_bf16_supported())
    except AttributeError:
        return False
