"""Which retraining interval `auto` runs at 10,000 calls, chosen as PMO chose its hyperparameters: on
zaleplon_mpo and perindopril_mpo alone (Gao et al. 2022, section 4), never on the tasks reported with it.

    python benchmarks/pmo.py --tasks zaleplon_mpo,perindopril_mpo --methods gradient+rt250,gradient+rt500,gradient+rt1000 --seeds 0 --budget 10000
    python benchmarks/retrain_choice.py

Rule (`choose`, written before the runs at 250 and 1,000 finished): for each interval, the mean top-10 AUC of the
two tuning tasks at seed 0; the highest wins, except that a longer interval (fewer retraining rounds, less
time) within 0.005 of the best is preferred. An interval without both runs is not a candidate.
Reads benchmarks/results/pmo/; writes benchmarks/results/retrain_choice.json and .md.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import markdown_line, record  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TASKS = ("zaleplon_mpo", "perindopril_mpo")
INTERVALS = (250, 500, 1000)
TOLERANCE = 0.005


def choose(rows: list[dict]) -> dict:
    """The rule in the module's docstring: rows are {interval, task, auc, seconds}."""
    by = {}
    for r in rows:
        by.setdefault(r["interval"], {})[r["task"]] = r
    means = {k: round(sum(v[t]["auc"] for t in TASKS) / len(TASKS), 4) for k, v in by.items() if set(TASKS) <= set(v)}
    if not means:
        raise SystemExit("no interval has runs on both tuning tasks yet")
    best = max(means.values())
    chosen = max(k for k, m in means.items() if m >= best - TOLERANCE)
    return {"interval": chosen, "means": {str(k): means[k] for k in sorted(means)}}


def main() -> None:
    rows = []
    for k in INTERVALS:
        for t in TASKS:
            f = ROOT / "benchmarks" / "results" / "pmo" / f"{t}__gradient+rt{k}__b10000__s0.json"
            if f.exists():
                s = json.loads(f.read_text())["summary"]
                rows.append({"interval": k, "task": t, "auc": s["auc_top10"], "seconds": s["seconds"],
                             "rounds": s.get("retrain_rounds")})
    c = choose(rows)
    res = {"rows": rows, "choice": c, "tasks": list(TASKS), "seed": 0, "budget": 10000, **record({"moses": "moses"})}
    out = ROOT / "benchmarks" / "results" / "retrain_choice"
    out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    lines = ["# Retraining interval at 10,000 calls, chosen on zaleplon_mpo and perindopril_mpo (seed 0)", "",
             "| retrain every | zaleplon_mpo | perindopril_mpo | mean | rounds | seconds (both runs) |",
             "|---|---|---|---|---|---|"]
    for k in INTERVALS:
        r = {x["task"]: x for x in rows if x["interval"] == k}
        if not r:
            continue
        cell = [f"{r[t]['auc']:.3f}" if t in r else "not run" for t in TASKS]
        mean = c["means"].get(str(k))
        lines.append(f"| {k} | {cell[0]} | {cell[1]} | {mean:.3f} |" if mean is not None else f"| {k} | {cell[0]} | {cell[1]} | - |")
        lines[-1] += f" {'/'.join(str(x['rounds']) for x in r.values())} | {sum(x['seconds'] for x in r.values()):.0f} |"
    missing = [str(k) for k in INTERVALS if str(k) not in c["means"]]
    pending = f" Not yet candidates (a run missing): every {', '.join(missing)} calls." if missing else ""
    lines += ["", f"Chosen: retraining every {c['interval']} calls (rule in benchmarks/retrain_choice.py).{pending} Run times"
              " depend on what else ran on the machine: compare them only within a row.", "", markdown_line(res)]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
