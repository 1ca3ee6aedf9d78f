"""Provenance fields that every results file written by a script in benchmarks/ (and training/*/quick_eval.py)
records, so each figure in the documentation can be traced to the weights, code and machine that produced it:

    weights_sha256  {model name or path: sha256 of its model.safetensors}; {} when no model was used
    commit          `git rev-parse HEAD` of this checkout (env MOLVAE_COMMIT where there is no .git, e.g. on a
                    lent machine that gets a copy of the working tree); None when neither is known
    commit_dirty    True when tracked files under molvae/ or benchmarks/ (results excepted) differed from that
                    commit; None when unknown
    cores           os.cpu_count() of the machine that ran it
    date            UTC time the record was made (ISO 8601)

Results files committed before these fields existed get them from git (benchmarks/backfill_provenance.py:
the commit that added the file, its date, the weights bundled at that commit; marked `provenance`).

    from provenance import record, markdown_line
    prov = record({"default": "default"})          # model name, model directory or MolVAE
    res.update(prov); ...; lines.append(markdown_line(res))
"""
import datetime
import hashlib
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("weights_sha256", "commit", "cores", "date")


def _git(*args) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def commit() -> tuple[str | None, bool | None]:
    """(HEAD commit, whether molvae/ or benchmarks/ code differed from it)."""
    head = _git("rev-parse", "HEAD")
    if head is None:
        return os.environ.get("MOLVAE_COMMIT") or None, None
    status = _git("status", "--porcelain", "--untracked-files=no", "--", "molvae", "benchmarks",
                  ":(exclude)benchmarks/results")
    return head.strip(), None if status is None else bool(status.strip())


def weights_file(model) -> Path:
    """model.safetensors of a model given as a MolVAE, a model or run directory, or a bundled model's name."""
    if model is None:
        model = "default"
    path = getattr(model, "path", model)
    try:
        from molvae.model.checkpoint import resolve_model_dir

        d = resolve_model_dir(path)
    except Exception:  # noqa: BLE001 - fall back to the bundled models' folder
        p = Path(path)
        d = p if p.exists() else ROOT / "molvae" / "models" / str(path)
    return Path(d) / "model.safetensors"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def record(models: dict | None = None) -> dict:
    """The provenance fields for a results file. models: {label: MolVAE, model directory or bundled name};
    None or {} for a run that used no model."""
    head, dirty = commit()
    weights = {}
    for k, m in (models or {}).items():
        weights[str(k)] = sha256(weights_file(m))
        if (weights_file(m).parent / "critic.safetensors").exists():  # a realism critic re-ranks its samples
            weights[f"{k} critic"] = sha256(weights_file(m).parent / "critic.safetensors")
    return {"weights_sha256": weights,
            "commit": head, "commit_dirty": dirty, "cores": os.cpu_count(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def markdown_line(res: dict) -> str:
    """One line of numbers and identifiers for a generated markdown file, read from a results record."""
    w = res.get("weights_sha256")
    if isinstance(w, dict):
        weights = ", ".join(f"{k} {v[:12]}" for k, v in w.items()) or "none (no model)"
    else:
        weights = "not recorded"
    if res.get("commit"):
        c = res["commit"][:10] + (" (code differed from it)" if res.get("commit_dirty") else "")
        if res.get("provenance"):
            c += " (read from git: the commit that added the file)"
    elif res.get("commit_added"):
        c = f"not recorded; commit_added {res['commit_added'][:10]}"
    else:
        c = "not recorded"
    cores = res.get("cores", res.get("cpus"))
    return (f"Provenance: weights sha256 {weights}; commit {c}; cores {cores if cores else 'not recorded'};"
            f" date {res.get('date') or 'not recorded'}.")


def save(name: str, res: dict, text: str) -> None:
    """Write benchmarks/results/<name>.json (res) and <name>.md (text), and print the text."""
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(res, indent=2, default=float) + "\n")
    (out / f"{name}.md").write_text(text)
    print(text, end="")
