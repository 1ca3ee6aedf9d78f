"""Provenance for results files committed before benchmarks/provenance.py recorded it at run time, read from git.

For every JSON under benchmarks/results/ that lacks any of weights_sha256, commit, cores and date, this adds:

    commit          the commit that added the file (`git log --diff-filter=A`): the run was made at or before it
    date            that commit's date (so the run's date or later)
    weights_sha256  {model: sha256 of molvae/models/<model>/model.safetensors as committed in that commit}; the
                    model is the one named by the run's method (`gradient@fast` -> fast), else `default`; {} for
                    the files that used no model (NO_MODEL)
    cores           the `cpus` the run recorded itself, else None (unknown)
    provenance      "backfilled from git", so a reader knows these were not recorded at run time

Files already carrying the four fields are left alone; files not yet committed are skipped (rerun them instead).

    python benchmarks/backfill_provenance.py [--check]   # --check: list what is missing, change nothing
"""
import argparse
import hashlib
import json
import subprocess
from functools import lru_cache
from pathlib import Path

from provenance import FIELDS

ROOT = Path(__file__).resolve().parent.parent
NO_MODEL = {"screening_check.json", "moses_train_row.json"}  # objective and metric checks on MOSES molecules
NOTE = ("backfilled from git by benchmarks/backfill_provenance.py: commit and date are those of the commit that"
        " added this file (the run was made at or before it), the weights those bundled at that commit")


def git(*args, text=True):
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=text, check=True).stdout


@lru_cache(maxsize=None)
def weights_at(commit: str, label: str) -> str:
    return hashlib.sha256(git("show", f"{commit}:molvae/models/{label}/model.safetensors", text=False)).hexdigest()


@lru_cache(maxsize=None)
def same_tensors(commit: str, label: str) -> str | None:
    """A note when the weights at that commit differ from today's bundled file only by tensors added since
    (every earlier tensor unchanged), else None."""
    from safetensors.torch import load
    import torch

    now = ROOT / "molvae" / "models" / label / "model.safetensors"
    then = git("show", f"{commit}:molvae/models/{label}/model.safetensors", text=False)
    if not now.exists() or hashlib.sha256(then).hexdigest() == hashlib.sha256(now.read_bytes()).hexdigest():
        return None
    old, new = load(then), load(now.read_bytes())
    if not all(k in new and torch.equal(v, new[k]) for k, v in old.items()):
        return None
    return (f"every tensor of these weights equals today's {label} model's; today's file adds"
            f" {', '.join(sorted(set(new) - set(old)))}")


def provenance(path: Path, d: dict) -> dict | None:
    rel = path.relative_to(ROOT).as_posix()
    added = git("log", "--diff-filter=A", "--format=%H", "--", rel).split()
    if not added:
        return None
    commit = added[-1]
    weights, extra = {}, {}
    if path.name not in NO_MODEL:
        label = str(d.get("method", "")).partition("@")[2] or Path(str(d.get("model") or "default")).name
        weights = {label: weights_at(commit, label)}
        same = same_tensors(commit, label)
        if same:
            extra["weights_note"] = same
    return {"weights_sha256": weights, "commit": commit, "commit_dirty": None,
            "cores": d.get("cpus", d.get("cores")), "date": git("show", "-s", "--format=%cI", commit).strip(),
            "provenance": NOTE, **extra}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true", help="list the files lacking provenance; change nothing")
    args = ap.parse_args()
    changed, skipped = 0, []
    for path in sorted((ROOT / "benchmarks" / "results").rglob("*.json")):
        d = json.loads(path.read_text())
        if not isinstance(d, dict) or all(k in d for k in FIELDS):
            continue
        if args.check:
            print(path.relative_to(ROOT))
            continue
        prov = provenance(path, d)
        if prov is None:
            skipped.append(path.name)
            continue
        d.update(prov)
        path.write_text(json.dumps(d, indent=1) + "\n")
        changed += 1
    if not args.check:
        print(f"backfilled {changed} files" + (f"; not committed, so skipped: {', '.join(skipped)}" if skipped else ""))


if __name__ == "__main__":
    main()
