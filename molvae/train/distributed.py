"""Rank, world size and device of a training process: a no-op on one process, DistributedDataParallel's
process group under torchrun (gloo on CPU, NCCL on GPUs)."""
from __future__ import annotations

import os

import torch

from .config import TrainError
from ..model.device import pick_device


class Dist:
    """Rank, world size and device; a no-op on a single process."""

    def __init__(self, device: str):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
        try:
            device = pick_device(device)
        except ValueError as exc:
            raise TrainError(str(exc)) from None
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
