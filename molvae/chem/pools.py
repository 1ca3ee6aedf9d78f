"""Worker processes for the CPU-bound RDKit and SELFIES work that holds the GIL: one place that knows how
molvae starts them. Never by forking the caller: a fork after torch (or any library) has started threads can
deadlock the child, and is unsafe on macOS. Workers come from a fork server (a clean process started once,
Linux and other POSIX systems) or are spawned (elsewhere); each imports what its task needs."""
from __future__ import annotations


class Done:
    """A result computed in this process, with the interface of a future (``result()``)."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def start_method() -> str:
    """forkserver where the platform has it, else spawn."""
    import multiprocessing as mp

    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


def _context():
    import multiprocessing as mp

    return mp.get_context(start_method())


def process_pool(workers: int, initializer=None):
    """A concurrent.futures pool of ``workers`` processes."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=_context(), initializer=initializer)


def map_chunks(func, items: list, size: int, workers: int, progress: str | None = None) -> list:
    """func applied to consecutive chunks of ``size`` items, in ``workers`` processes when there is more than
    one chunk; results in chunk order. progress: a label for a bar of chunks (shown on a terminal)."""
    from tqdm import tqdm

    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    bar = dict(total=len(chunks), desc=progress, disable=None if progress else True)
    if workers <= 1 or len(chunks) <= 1:
        return [func(c) for c in tqdm(chunks, **bar)]
    with process_pool(workers) as pool:
        return list(tqdm(pool.map(func, chunks), **bar))


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the platform has one (taskset, cgroup
    cpusets, a batch scheduler's allocation), else the machine's count."""
    import os

    if hasattr(os, "process_cpu_count"):  # Python 3.13+
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
