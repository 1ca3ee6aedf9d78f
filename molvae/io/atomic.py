"""Writing files so that an interrupted run never leaves one that looks complete: every output is written to a
temporary name beside its destination and renamed into place only when it is whole."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class Pending:
    """A temporary path beside ``path`` (hidden, ending in ``suffix`` for writers that check the extension)
    that becomes ``path`` on ``commit()`` and disappears on ``abort()``: for outputs written over time."""

    def __init__(self, path, suffix: str = ""):
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}{suffix}")
        _remove(self.tmp)

    def commit(self) -> Path:
        if self.path.is_dir() and self.tmp.is_dir():
            _remove(self.path)
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        _remove(self.tmp)


@contextmanager
def atomic_path(path, suffix: str = ""):
    """Yield a temporary path beside ``path``; rename it onto ``path`` when the block ends normally, remove
    it otherwise."""
    pending = Pending(path, suffix)
    try:
        yield pending.tmp
        pending.commit()
    except BaseException:
        pending.abort()
        raise


def write_text(path, text: str, fsync: bool = False) -> Path:
    """Write text atomically (optionally forced to disk before the rename)."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            fh.write(text)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
    return Path(path)


def write_json(path, obj, fsync: bool = False, **dump_options) -> Path:
    return write_text(path, json.dumps(obj, indent=2, **dump_options) + "\n", fsync=fsync)


def check_writable(path) -> None:
    """Fail early (before any work) when ``path`` cannot be created: OSError with the reason."""
    out = Path(path)
    probe = out.with_name(f".{out.name}.probe")
    probe.touch()
    probe.unlink()


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
