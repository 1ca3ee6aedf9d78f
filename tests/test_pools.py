"""Worker pools start from a clean process, never by forking the caller (whose torch threads may be running)."""
import os
import subprocess
import sys

from molvae.chem import pools


def _parent_pid(_):
    return os.getppid()


def test_workers_are_not_forked_from_the_caller():
    with pools.process_pool(2) as pool:
        assert pool._mp_context.get_start_method() in ("forkserver", "spawn")
        parents = set(pool.map(_parent_pid, range(4)))
    assert os.getpid() not in parents or pools.start_method() == "spawn"


def test_python_m_molvae_runs_worker_pools(tmp_path, tiny_model):
    """Workers import the main module as __mp_main__: `python -m molvae` must not run a command in each."""
    out = tmp_path / "s.csv"
    r = subprocess.run([sys.executable, "-m", "molvae", "sample", "-n", "40", "--model", str(tiny_model),
                        "--batch-size", "8", "--workers", "2", "-o", str(out)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("sampled 40 molecules") == 1 and len(out.read_text().splitlines()) == 41
