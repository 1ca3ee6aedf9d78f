"""Where the model runs: one choice of device for every entry point (API, training, commands)."""
from __future__ import annotations

import torch

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
        raise ValueError(f"device {device} was asked for, but no CUDA GPU is available")
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("device mps was asked for, but MPS is not available")
    if device not in ("cpu", "mps") and not device.startswith("cuda"):
        raise ValueError(f"unknown device '{device}' ({', '.join(DEVICES)})")
    return device
