"""PMO-protocol runner for molvae's latent optimizers (Gao et al. 2022, "Sample Efficiency Matters").

For every (task, method, seed) it runs `molvae.optimize.optimize` with the bundled (or a given) model under an
oracle budget (PMO: 10,000 distinct molecules), and writes one JSON per run into benchmarks/results/pmo/
(runs already there are skipped, so a benchmark can be resumed across sessions). Then it writes
benchmarks/results/pmo.md: for each budget with results, top-10 AUC (PMO's definition,
`molvae.optimize.top_auc`) per task, mean ± sd over seeds, beside the PMO paper's REINVENT, Graph GA,
SELFIES-VAE-BO and Screening, with the sum over the tasks.

    python benchmarks/pmo.py --tasks qed,median1 --methods random,bo --seeds 0,1,2 --budget 10000 --jobs 2
    python benchmarks/pmo.py --budget 2000 --table-only          # rewrite the table from the JSON files
    python benchmarks/pmo.py --table-only --docs                 # ... and re-render docs/optimization.md's PMO tables
    python benchmarks/pmo.py --plogp --methods bo --seeds 0 --budget 2000 --n-starts 50 --start-budget 100
    python benchmarks/pmo.py --methods gradient@fast --budget 2000   # METHOD@MODEL: another (bundled) model
    python benchmarks/pmo.py --methods gradient+rt250 --budget 2000  # fine-tune the model every 250 calls
    python benchmarks/pmo.py --methods gradient+rt500 --budget 10000  # what `--method auto` runs without a start
    python benchmarks/pmo.py --tasks zaleplon_mpo_pmo,sitagliptin_mpo_pmo --methods bo  # the PMO-scored variants

--plogp runs JT-VAE's two penalized-logP experiments instead (Jin et al., ICML 2018): the top-3 plogp_norm
molecules found under the budget (JT-VAE: 5.30, 4.93, 4.49), and similarity-constrained improvement from the
--n-starts lowest-plogp_norm molecules (JT-VAE: 800 from ZINC's test set; here from the first 20,000 of the
MOSES test split, which has no ZINC) at similarity floors 0.4 and 0.6, each start with --start-budget calls.
Results go to benchmarks/results/pmo_plogp/ and benchmarks/results/pmo_plogp.md.

Four tasks were scored differently by PMO's code (PyTDC 0.3.6) than by molvae's GuacaMol-scored objectives
(DIFFERS_FROM_PMO; measured by benchmarks/pmo_oracle_check.py). Their PMO-scored variants (TASK_pmo, e.g.
zaleplon_mpo_pmo; molvae.objectives.tasks.PMO_VARIANTS) run like any task and sit beside PMO's published columns for
TASK; the table's like-for-like sum takes the 16 other tasks and the four variants.

Every run's JSON records the provenance fields of benchmarks/provenance.py (the weights sha256 of the model it
ran on, the commit, the core count and the date); the markdown files hold tables, numbers and those fields only.
"""
import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np

from provenance import record

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_TASKS = ["qed", "celecoxib_rediscovery", "median1", "osimertinib_mpo", "ranolazine_mpo",
                 "albuterol_similarity", "zaleplon_mpo"]
# Tasks whose objective here is not the one PMO scored, from reading PyTDC 0.3.6's code (the version PMO
# pinned) and measured by benchmarks/pmo_oracle_check.py (results/pmo_oracle_check.md): its isomer score took
# the total atom count from a regex over the SMILES text (lower-case aromatic atoms skipped, ring-closure digits
# counted; fixed in TDC PR #171, Aug 2022, the old oracle kept as zaleplon_mpo_prev), and its sitagliptin_mpo
# combined raw logP and TPSA instead of their desirability scores. molvae's TASK follows the GuacaMol
# definitions (Brown et al. 2019), which TDC matches after the fix; TASK_pmo scores it as PyTDC 0.3.6 did. These rows
# stay in the table but are left out of the second sum row; the like-for-like sum uses their _pmo variants.
DIFFERS_FROM_PMO = {
    "zaleplon_mpo": "isomer score (TDC 0.3.6 atom-count regex)",
    "isomers_c7h8n2o2": "isomer score (TDC 0.3.6 atom-count regex)",
    "isomers_c9h10n2o2pf2cl": "isomer score (TDC 0.3.6 atom-count regex)",
    "sitagliptin_mpo": "TDC 0.3.6: raw logP and TPSA, atom-count regex",
}

# Published top-10 AUC at 10,000 calls, PMO (Gao et al. 2022). REINVENT and Graph GA: mean ± sd over 5 seeds
# as printed in the paper's main table (read from its reproduction in the f-RAG paper, Lee et al. NeurIPS 2024,
# Table 1, which takes them from Gao et al.; celecoxib REINVENT is 0.713 in the authors' leaderboard data and
# 0.710 in that reproduction: 0.713 kept). SELFIES-VAE-BO and Screening: means from the authors' leaderboard
# (pmo-benchmark.github.io per-task pages, generated from their results spreadsheet; 3 decimals, truncated);
# no sd there. valsartan_smarts Screening is 9.3e-05 (printed as 0.000).
PUBLISHED = {  # task: (REINVENT, sd, Graph GA, sd, SELFIES-VAE-BO, Screening)
    "albuterol_similarity": (0.882, 0.006, 0.838, 0.016, 0.494, 0.483),
    "amlodipine_mpo": (0.635, 0.035, 0.661, 0.020, 0.516, 0.535),
    "celecoxib_rediscovery": (0.713, 0.067, 0.630, 0.097, 0.326, 0.351),
    "deco_hop": (0.666, 0.044, 0.619, 0.004, 0.579, 0.590),
    "fexofenadine_mpo": (0.784, 0.006, 0.760, 0.011, 0.670, 0.666),
    "isomers_c7h8n2o2": (0.852, 0.036, 0.862, 0.065, 0.325, 0.168),
    "isomers_c9h10n2o2pf2cl": (0.642, 0.054, 0.719, 0.047, 0.200, 0.106),
    "median1": (0.356, 0.009, 0.294, 0.021, 0.201, 0.205),
    "median2": (0.276, 0.008, 0.273, 0.009, 0.185, 0.200),
    "mestranol_similarity": (0.618, 0.048, 0.579, 0.022, 0.386, 0.409),
    "osimertinib_mpo": (0.837, 0.009, 0.831, 0.005, 0.765, 0.764),
    "perindopril_mpo": (0.537, 0.016, 0.538, 0.009, 0.429, 0.445),
    "qed": (0.941, 0.000, 0.940, 0.000, 0.936, 0.938),
    "ranolazine_mpo": (0.760, 0.009, 0.728, 0.012, 0.452, 0.411),
    "scaffold_hop": (0.560, 0.019, 0.517, 0.007, 0.455, 0.471),
    "sitagliptin_mpo": (0.021, 0.003, 0.433, 0.075, 0.084, 0.022),
    "thiothixene_rediscovery": (0.534, 0.013, 0.479, 0.025, 0.297, 0.317),
    "troglitazone_rediscovery": (0.441, 0.032, 0.390, 0.016, 0.243, 0.249),
    "valsartan_smarts": (0.178, 0.358, 0.000, 0.000, 0.001, 0.000),
    "zaleplon_mpo": (0.358, 0.062, 0.346, 0.032, 0.206, 0.072),
}
# GP BO and SMILES-LSTM-HC: means over 5 seeds from the PMO leaderboard data (Mol_Opt.xlsx of the PMO benchmark
# site), as quoted in this project's issue #18; no sd there.
PUBLISHED_MORE = {  # task: (GP BO, SMILES-LSTM-HC)
    "qed": (0.937, 0.939), "celecoxib_rediscovery": (0.723, 0.539), "median1": (0.301, 0.255),
    "median2": (0.297, 0.248), "osimertinib_mpo": (0.787, 0.796), "ranolazine_mpo": (0.735, 0.714),
    "albuterol_similarity": (0.898, 0.719), "zaleplon_mpo": (0.221, 0.206), "amlodipine_mpo": (0.583, 0.593),
    "fexofenadine_mpo": (0.722, 0.725), "perindopril_mpo": (0.493, 0.489), "sitagliptin_mpo": (0.186, 0.066),
    "valsartan_smarts": (0.000, 0.000), "deco_hop": (0.629, 0.826), "scaffold_hop": (0.548, 0.533),
    "mestranol_similarity": (0.627, 0.526), "thiothixene_rediscovery": (0.559, 0.438),
    "troglitazone_rediscovery": (0.410, 0.354), "isomers_c7h8n2o2": (0.680, 0.485),
    "isomers_c9h10n2o2pf2cl": (0.469, 0.342),
}


PMO_SUFFIX = "_pmo"  # TASK_pmo: TASK as PMO's code scored it (molvae.objectives.tasks.PMO_VARIANTS)


def pmo_name(task: str) -> str:
    """The PMO task a task stands for: TASK for TASK_pmo, else the task itself."""
    return task.removesuffix(PMO_SUFFIX)


def like_for_like(tasks) -> list:
    """PMO's 20 tasks as PMO scored them: TASK_pmo in place of each task of DIFFERS_FROM_PMO."""
    return [t + PMO_SUFFIX if t in DIFFERS_FROM_PMO else t for t in tasks]


def published(task: str) -> list | None:
    """The six published means in table order: REINVENT, Graph GA, GP BO, SMILES-LSTM-HC, SELFIES-VAE-BO,
    Screening (None for a task PMO did not run); TASK_pmo gets TASK's."""
    p, more = PUBLISHED.get(pmo_name(task)), PUBLISHED_MORE.get(pmo_name(task))
    return None if p is None or more is None else [p[0], p[2], more[0], more[1], p[4], p[5]]


# PMO's Screening (10,000 random ZINC 250k molecules): top-10 mean after 10,000 calls, from the same leaderboard
# pages (3 decimals, truncated). Beside the top-10 mean of the first 10,000 MOSES test molecules under our
# objectives, it checks that an objective and its PMO namesake agree on an unoptimized library.
PMO_SCREENING_TOP10 = {
    "albuterol_similarity": 0.526, "amlodipine_mpo": 0.563, "celecoxib_rediscovery": 0.372, "deco_hop": 0.600,
    "fexofenadine_mpo": 0.686, "isomers_c7h8n2o2": 0.254, "isomers_c9h10n2o2pf2cl": 0.153, "median1": 0.222,
    "median2": 0.212, "mestranol_similarity": 0.447, "osimertinib_mpo": 0.783, "perindopril_mpo": 0.464,
    "qed": 0.946, "ranolazine_mpo": 0.456, "scaffold_hop": 0.485, "sitagliptin_mpo": 0.040,
    "thiothixene_rediscovery": 0.336, "troglitazone_rediscovery": 0.264, "valsartan_smarts": 0.000,
    "zaleplon_mpo": 0.124,
}
JTVAE_TOP3 = (5.30, 4.93, 4.49)  # JT-VAE (Jin et al. 2018), plogp_norm of its top-3 molecules found by BO
# JT-VAE's similarity-constrained results (Jin et al. 2018, Table 3): floor -> (mean improvement, sd, success);
# 800 lowest-plogp ZINC test molecules, 80 gradient steps on its property predictor per start
JTVAE_CONSTRAINED = {0.4: (0.84, 1.45, 0.836), 0.6: (0.21, 0.71, 0.464)}

BASE_MODEL = "moses"  # the model of the runs whose file names carry no @MODEL (the bundled MOSES model)
_MODEL = BASE_MODEL  # the --model of this run
_VAES = {}      # loaded models, by name or path


def _init(model, threads):
    global _MODEL
    import torch

    torch.set_num_threads(threads)
    _MODEL = model


def _method_vae(spec: str):
    """A method spec is METHOD[+rtN][@MODEL]: gradient@fast runs on the bundled fast model, gradient+rt500
    fine-tunes the model every 500 calls (optimize's retrain_every). Returns (method, model, the optimize
    arguments the spec adds); the model is loaded once per process."""
    from molvae.api import MolVAE

    method, _, model = spec.partition("@")
    method, _, retrain = method.partition("+rt")
    key = model or _MODEL
    if key not in _VAES:
        _VAES[key] = MolVAE.load(key)
    return method, _VAES[key], ({"retrain_every": int(retrain)} if retrain else {})


def _model_label(spec: str) -> str:
    return spec.partition("@")[2] or _MODEL


def file_spec(spec: str) -> str:
    """The spec as results files name it: a model given as a path (gradient@training/zinc/checkpoint) has its
    slashes turned into dashes (gradient@training-zinc-checkpoint); the run's JSON keeps the path itself."""
    return spec.replace("/", "-")


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n")
    tmp.replace(path)


def _curve(scores: np.ndarray, freq: int = 100, top_n: int = 10) -> list:
    out = []
    for k in list(range(freq, len(scores), freq)) + [len(scores)]:
        out.append([k, round(float(np.sort(scores[:k])[::-1][:top_n].mean()), 4)])
    return out


def run_one(job) -> str:
    """One (task, method, seed) run under the PMO protocol; writes its JSON."""
    import molvae
    from molvae.optimize import optimize

    task, method, seed, budget, path = job
    t = time.time()
    name, vae, extra = _method_vae(method)
    prov = record({_model_label(method): vae})
    res = optimize(vae, task, budget, method=name, seed=seed, **extra)
    best = res.best(10)
    _write_json(Path(path), {
        "task": task, "method": file_spec(method), "model_path": _model_label(method), "seed": seed, "budget": budget, "summary": res.summary,
        "top10": [[s, round(float(v), 4)] for s, v in zip(best["smiles"], best["score"])],
        "curve_top10": _curve(res.log["score"].to_numpy(float)),
        "wall_seconds": round(time.time() - t, 1), "molvae": molvae.__version__,
        "torch_threads": __import__("torch").get_num_threads(), "machine": platform.machine(),
        "cpus": os.cpu_count(), **prov,
    })
    return f"{task} {method} seed {seed}: AUC {res.summary['auc_top10']:.3f} in {time.time() - t:.0f}s"


def _map(fn, jobs, n_proc, model, threads):
    if n_proc <= 1:
        _init(model, threads)
        for j in jobs:
            yield fn(j)
        return
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(n_proc, initializer=_init, initargs=(model, threads)) as pool:
        yield from pool.imap_unordered(fn, jobs)


def _fmt(values) -> str:
    if not values:
        return "n/a"
    m = np.mean(values)
    return f"{m:.3f} ± {np.std(values, ddof=1):.3f}" if len(values) > 1 else f"{m:.3f}"


def write_table(out_dir: Path, budget: int, tasks: list, methods: list, flagged: frozenset = frozenset()) -> str:
    runs = {}
    for p in sorted(out_dir.glob(f"*__b{budget}__s*.json")):
        r = json.loads(p.read_text())
        runs.setdefault((r["task"], r["method"]), []).append(r)
    methods = [m for m in methods if any(k[1] == m for k in runs)]  # only the methods run at this budget
    tasks = [t for t in tasks if any((t, m) in runs for m in methods)]
    head = [f"molvae {m}" for m in methods] + ["REINVENT", "Graph GA", "GP BO", "SMILES-LSTM-HC", "SELFIES-VAE-BO",
                                               "Screening"]
    lines = [f"| Task | {' | '.join(head)} |", "|---" * (len(head) + 1) + "|"]
    # the sum row compares the methods run on every task (others show n/a); with none, the tasks all share.
    # TASK_pmo rows are summed apart (the like-for-like row)
    base = [t for t in tasks if not t.endswith(PMO_SUFFIX)]
    complete = [m for m in methods if all((t, m) in runs for t in base)]
    full = [t for t in base if all((t, m) in runs for m in (complete or methods))]
    sums, pub_sums = {m: 0.0 for m in methods}, np.zeros(6)
    for t in tasks:
        cells = []
        for m in methods:
            aucs = [r["summary"]["auc_top10"] for r in runs.get((t, m), [])]
            cells.append(_fmt(aucs) + (f" (n={len(aucs)})" if aucs and len(aucs) < 3 else ""))
            if t in full and aucs:
                sums[m] += float(np.mean(aucs))
        p, pub = PUBLISHED.get(pmo_name(t)), published(t)
        cells += ([f"{p[0]:.3f} ± {p[1]:.3f}", f"{p[2]:.3f} ± {p[3]:.3f}"] + [f"{v:.3f}" for v in pub[2:]]
                  if pub else ["n/a"] * 6)
        if pub and t in full:
            pub_sums += np.array(pub)
        lines.append(f"| {t} | {' | '.join(cells)} |")
    label = "Sum" if len(full) == len(base) else f"Sum over the {len(full)} tasks with every method"

    def cell(m, v, bold=False):
        if m not in complete and complete:
            return f"n/a ({sum((t, m) in runs for t in base)} of {len(base)} tasks)"
        return f"**{v:.3f}**" if bold else f"{v:.3f}"

    lines.append(f"| **{label}** | " + " | ".join([cell(m, sums[m], True) for m in methods]
                                                 + [f"{v:.3f}" for v in pub_sums]) + " |")
    drop = [t for t in full if t in flagged]
    if drop:  # the same sums without the tasks whose objective is not the one PMO scored
        sub = {m: sums[m] - sum(np.mean([r["summary"]["auc_top10"] for r in runs[(t, m)]]) for t in drop
                                if (t, m) in runs) for m in methods}
        pub = pub_sums - sum(np.array(published(t)) for t in drop if published(t))
        lines.append(f"| **Sum without {', '.join(drop)}** | "
                     + " | ".join([cell(m, sub[m]) for m in methods] + [f"{v:.3f}" for v in pub]) + " |")
    lines += like_for_like_row(runs, methods, full)
    timing = []
    for m in methods:
        for cpus in sorted({r.get("cpus") for t in tasks for r in runs.get((t, m), [])}, key=str):
            rs = [r for t in tasks for r in runs.get((t, m), []) if r.get("cpus") == cpus]
            secs = [r["wall_seconds"] for r in rs]
            timing.append(f"{m}, cores {cpus if cpus else 'not recorded'}: {len(secs)} runs, mean {np.mean(secs):.0f},"
                          f" min {min(secs):.0f}, max {max(secs):.0f}; calls per run"
                          f" {np.mean([r['summary']['calls'] for r in rs]):.0f};"
                          f" stopped early {sum(r['summary']['stopped'] == 'stalled' for r in rs)}")
    seeds = sorted({r["seed"] for rs in runs.values() for r in rs})
    command = (f"python benchmarks/pmo.py --tasks {','.join(tasks)} --methods {','.join(methods)} "
               f"--seeds {','.join(map(str, seeds))} --budget {budget} --jobs 2")
    used = [r for t in tasks for m in methods for r in runs.get((t, m), [])]
    text = f"""## Budget {budget:,}

Budget: {budget:,} distinct molecules per run. Seeds: {', '.join(map(str, seeds))}. Cells: top-10 AUC
(`molvae.optimize.top_auc`), mean ± sample sd over seeds (n where fewer than 3 runs). Model: bundled `default`;
METHOD@fast: bundled `fast`. Published columns: PMO (Gao et al., NeurIPS 2022), budget 10,000, 5 seeds;
REINVENT and Graph GA mean ± sd from its main table, SELFIES-VAE-BO and Screening means from
pmo-benchmark.github.io, GP BO and SMILES-LSTM-HC means from the leaderboard data (Mol_Opt.xlsx).

{chr(10).join(lines)}

Seconds per run (one torch thread per run): {'; '.join(timing)}.

{provenance_summary(used)}

Reproduce: `{command}`
"""
    return text


def like_for_like_row(runs: dict, methods: list, full: list) -> list:
    """The sum over the tasks of `full` with TASK_pmo in place of each DIFFERS_FROM_PMO task, per method that
    ran all of them (others: how many it ran); no row while no method ran a TASK_pmo."""
    tasks = like_for_like(full)
    if not any((t, m) in runs for t in tasks if t.endswith(PMO_SUFFIX) for m in methods):
        return []
    cells = []
    for m in methods:
        have = [t for t in tasks if (t, m) in runs]
        cells.append(f"**{sum(np.mean([r['summary']['auc_top10'] for r in runs[(t, m)]]) for t in have):.3f}**"
                     if len(have) == len(tasks) else f"n/a ({len(have)} of {len(tasks)} tasks)")
    pub = sum(np.array(published(t)) for t in tasks if published(t))
    n_pmo = sum(t.endswith(PMO_SUFFIX) for t in tasks)
    return [f"| **Like-for-like sum: the {len(tasks)} tasks as PMO scored them ({n_pmo} TASK_pmo rows)** | "
            + " | ".join(cells + [f"{v:.3f}" for v in pub]) + " |"]


DOCS_PAGE = ROOT / "docs" / "optimization.md"  # the page whose marked PMO tables --docs re-renders


def render_docs_page(page: Path = DOCS_PAGE) -> int:
    """Re-render the page's results markers from the results files (benchmarks/render_docs.py), so its PMO tables
    show pmo.md's numbers; the marker says which section, rows and columns, and how methods are labelled."""
    import render_docs
    if "file=benchmarks/results/pmo.md" not in page.read_text():
        raise SystemExit(f"{page}: no results marker for benchmarks/results/pmo.md to render")
    return render_docs.main(["--pages", str(page.relative_to(ROOT))])


def provenance_summary(recs: list) -> str:
    """Numbers and identifiers only: which weights, commits, core counts and dates the runs recorded."""
    def count(values):
        c = {}
        for v in values:
            c[v] = c.get(v, 0) + 1
        return ", ".join(f"{k} ({n})" for k, n in sorted(c.items(), key=lambda kv: str(kv[0])))

    have = [r for r in recs if r.get("commit") or r.get("weights_sha256")]
    weights = [f"{k} {v[:12]}" for r in have for k, v in (r.get("weights_sha256") or {}).items()]
    parts = [f"{len(recs)} runs"]
    if have:
        parts.append(f"weights sha256: {count(weights)}; commit: {count((r.get('commit') or 'none')[:10] for r in have)}"
                     f"; dates {min(r['date'] for r in have)} to {max(r['date'] for r in have)}")
    old = [r for r in recs if r not in have]
    if old:
        parts.append(f"{len(old)} without weights sha256, commit or date; their commit_added:"
                     f" {count((r.get('commit_added') or 'none')[:10] for r in old)}")
    parts.append(f"cores: {count(r.get('cores', r.get('cpus')) or 'not recorded' for r in recs)}")
    return "Provenance: " + "; ".join(parts) + "."


def screening_check(tasks: list, out_dir: Path, n: int = 10000) -> str:
    """Top-10 mean of the first n MOSES test molecules per task (cached in out_dir/screening_check.json, whose
    "_provenance" entry records the commit, cores and date of the last computation)."""
    import gzip

    from molvae.objectives import get_objective

    cache = out_dir / "screening_check.json"
    done = json.loads(cache.read_text()) if cache.exists() else {}
    todo = [t for t in tasks if t not in done]
    if todo:
        with gzip.open(ROOT / "data" / "moses_test.csv.gz", "rt") as fh:
            next(fh)
            smiles = [next(fh).strip().split(",")[0] for _ in range(n)]
        for t in todo:
            done[t] = round(float(np.sort(get_objective(t)(smiles))[-10:].mean()), 3)
        done["_provenance"] = record({})  # no model
        _write_json(cache, done)
    rows = [f"| {t} | {done[t]:.3f} | {PMO_SCREENING_TOP10.get(pmo_name(t), float('nan')):.3f} |"
            f" {DIFFERS_FROM_PMO.get(t, '-')} |" for t in tasks]
    flagged = frozenset(t for t in tasks if t in DIFFERS_FROM_PMO)
    prov = done.get("_provenance", {})
    return flagged, (
        f"## Objective check\n\nMOSES test, 10k: top-10 mean of the first {n:,} MOSES test molecules under molvae's "
        "objective. PMO Screening, 10k: top-10 after 10,000 ZINC 250k molecules (pmo-benchmark.github.io). Last "
        "column: difference from PyTDC 0.3.6's code (`DIFFERS_FROM_PMO` in benchmarks/pmo.py, measured by "
        "benchmarks/pmo_oracle_check.py); these tasks are left out of the second sum row, and their PMO-scored "
        "variants (TASK_pmo) stand in for them in the like-for-like sum.\n\n"
        "| Task | MOSES test, 10k | PMO Screening, 10k | known difference from PMO's objective |\n"
        "|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        + (f"Provenance: commit {(prov.get('commit') or 'not recorded')[:10]}; cores {prov.get('cores')};"
           f" date {prov.get('date')}.\n" if prov else "Provenance: not recorded.\n"))


# -- penalized logP (JT-VAE protocol) -------------------------------------------------------------------------
def run_plogp_top3(job) -> str:
    from molvae.optimize import optimize

    method, seed, budget, path = job
    t = time.time()
    name, vae, extra = _method_vae(method)
    prov = record({_model_label(method): vae})
    res = optimize(vae, "plogp_norm", budget, method=name, seed=seed)
    best = res.best(3)
    _write_json(Path(path), {"kind": "top3", "method": method, "seed": seed, "budget": budget,
                             "summary": res.summary, "top3": [[s, round(float(v), 3)] for s, v in
                                                              zip(best["smiles"], best["score"])],
                             "wall_seconds": round(time.time() - t, 1), **prov})
    return f"plogp top-3 {method} seed {seed}: {[round(float(v), 2) for v in best['score']]}"


def run_plogp_constrained(job) -> str:
    from molvae.optimize import optimize

    method, start, delta, budget, seed, path = job
    t = time.time()
    name, vae, extra = _method_vae(method)
    prov = record({_model_label(method): vae})
    res = optimize(vae, "plogp_norm", budget, method=name, start=start, similarity_min=delta, seed=seed, **extra)
    s = res.summary
    _write_json(Path(path), {"kind": "constrained", "method": method, "start": start, "delta": delta,
                             "budget": budget, "seed": seed, "summary": s, "wall_seconds": round(time.time() - t, 1),
                             **prov})
    return f"constrained {method} d={delta} {start}: +{s['improvement']:.2f}"


def lowest_plogp(n: int, pool: int = 20000) -> list:
    import gzip

    from molvae.objectives import get_objective

    with gzip.open(ROOT / "data" / "moses_test.csv.gz", "rt") as fh:
        next(fh)
        smiles = [next(fh).strip().split(",")[0] for _ in range(pool)]
    v = get_objective("plogp_norm")(smiles)
    return [smiles[i] for i in np.argsort(v, kind="stable")[:n]]


def _improvement_cell(rs: list) -> str:
    imp = np.array([r["summary"]["improvement"] for r in rs], dtype=float)
    sd = imp.std(ddof=1) if len(imp) > 1 else 0.0
    return f"{imp.mean():.2f} ± {sd:.2f} | {np.mean(imp > 0):.1%} | {len(rs)}"


def plogp_table(out_dir: Path, budget: int, start_budget: int) -> str:
    top, cons = {}, {}
    for p in sorted(out_dir.glob("*.json")):
        r = json.loads(p.read_text())
        if r["kind"] == "top3" and r["budget"] == budget:
            top.setdefault(r["method"], []).append(r)
        elif r["kind"] == "constrained" and r["budget"] == start_budget:
            cons.setdefault((r["method"], r["delta"]), []).append(r)
    lines = ["| Method | 1st | 2nd | 3rd | runs |", "|---|---|---|---|---|",
             f"| JT-VAE (Jin et al. 2018) | {' | '.join(f'{v:.2f}' for v in JTVAE_TOP3)} | published |"]
    seed_best = []
    for m, rs in sorted(top.items()):
        vals = sorted({s: v for r in rs for s, v in r["top3"]}.values(), reverse=True)[:3]
        lines.append(f"| molvae {m} (budget {budget:,}, best over {len(rs)} seeds) | "
                     + " | ".join(f"{v:.2f}" for v in vals) + f" | {len(rs)} |")
        seed_best += [f"{m} seed {r['seed']} {max(v for _, v in r['top3']):.2f}"
                      for r in sorted(rs, key=lambda r: r["seed"])]
    cl = ["| Method | similarity floor | improvement (mean ± sd) | success | starts |", "|---|---|---|---|---|"]
    cl += [f"| JT-VAE (Jin et al. 2018, ZINC starts) | {d} | {m:.2f} ± {sd:.2f} | {ok:.1%} | 800 |"
           for d, (m, sd, ok) in JTVAE_CONSTRAINED.items()]
    for (m, d), rs in sorted(cons.items()):
        cl.append(f"| molvae {m} ({start_budget} calls per start) | {d} | {_improvement_cell(rs)} |")
    # where the methods ran different sets of starts at a floor: each method on the starts all of them ran
    common = []
    for d in sorted({d for _, d in cons}):
        ms = sorted(m for m, dd in cons if dd == d)
        shared = set.intersection(*({r["start"] for r in cons[m, d]} for m in ms))
        if len(ms) > 1 and any(len(cons[m, d]) != len(shared) for m in ms):
            common += [f"| molvae {m} ({start_budget} calls per start) | {d} | "
                       f"{_improvement_cell([r for r in cons[m, d] if r['start'] in shared])} |" for m in ms]
    timing = [f"{m}, floor {d}: mean {np.mean([r['wall_seconds'] for r in rs]):.0f}, min"
              f" {min(r['wall_seconds'] for r in rs):.0f}, max {max(r['wall_seconds'] for r in rs):.0f};"
              f" below-floor decodes per start {np.mean([r['summary'].get('below_floor', 0) for r in rs]):.0f};"
              f" stopped at below_limit {sum(r['summary'].get('stopped') == 'below_limit' for r in rs)}"
              for (m, d), rs in sorted(cons.items())]
    recs = [r for rs in top.values() for r in rs] + [r for rs in cons.values() for r in rs]
    return f"""# Penalized logP (plogp_norm), JT-VAE's protocol

## Top-3 molecules under a budget of {budget:,} oracle calls
JT-VAE row: Jin et al. 2018 (its own BO, its own budget).

{chr(10).join(lines)}

Best per seed: {'; '.join(seed_best) or 'none'}.

## Similarity-constrained improvement
Starts: the lowest-plogp_norm molecules among the first 20,000 of the MOSES test split, {start_budget} oracle
calls each. Improvement: best plogp_norm with Tanimoto (Morgan r2, 2048) >= the floor, minus the start's (0 when
none); success: improvement > 0. JT-VAE rows: Jin et al. 2018, Table 3 (800 lowest-plogp ZINC test molecules).

{chr(10).join(cl)}
""" + (f"""
On the starts that every method at that floor ran:

{chr(10).join(cl[:2] + common)}
""" if common else "") + f"""
Seconds per start: {'; '.join(timing) or 'none'}.

{provenance_summary(recs)}
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default=",".join(DEFAULT_TASKS))
    ap.add_argument("--methods", default="random,bo",
                    help="comma-separated METHOD or METHOD@MODEL (MODEL: a bundled name such as fast, or a path)")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--budget", type=int, default=10000)
    ap.add_argument("--model", default=BASE_MODEL,
                    help=f"the model of methods without @MODEL (default {BASE_MODEL}, whose runs' file names carry"
                         " no @MODEL; any other model is written into the file names as @MODEL)")
    ap.add_argument("--jobs", type=int, default=1, help="parallel runs (one torch thread each)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per run")
    ap.add_argument("--table-only", action="store_true")
    ap.add_argument("--docs", "--readme", dest="docs", action="store_true",
                    help="also re-render the PMO tables marked in docs/optimization.md (benchmarks/render_docs.py)")
    ap.add_argument("--plogp", action="store_true", help="JT-VAE's penalized logP experiments instead")
    ap.add_argument("--n-starts", type=int, default=800)
    ap.add_argument("--start-budget", type=int, default=100)
    ap.add_argument("--deltas", default="0.4,0.6")
    args = ap.parse_args(argv)
    methods = [m if "@" in m or args.model == BASE_MODEL else f"{m}@{args.model}"
               for m in args.methods.split(",") if m]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    if args.plogp:
        out_dir = RESULTS / "pmo_plogp"
        out_dir.mkdir(parents=True, exist_ok=True)
        if not args.table_only:
            jobs = [(m, s, args.budget, str(out_dir / f"top3__{m}__b{args.budget}__s{s}.json"))
                    for m in methods for s in seeds]
            jobs = [j for j in jobs if not Path(j[-1]).exists()]
            for msg in _map(run_plogp_top3, jobs, args.jobs, args.model, args.threads):
                print(msg, flush=True)
            starts = lowest_plogp(args.n_starts)
            cjobs = [(m, st, float(d), args.start_budget, 0,
                      str(out_dir / f"cons__{m}__d{d}__b{args.start_budget}__{i:04d}.json"))
                     for m in methods for d in args.deltas.split(",") for i, st in enumerate(starts)]
            cjobs = [j for j in cjobs if not Path(j[-1]).exists()]
            for msg in _map(run_plogp_constrained, cjobs, args.jobs, args.model, args.threads):
                print(msg, flush=True)
        (RESULTS / "pmo_plogp.md").write_text(plogp_table(out_dir, args.budget, args.start_budget))
        return 0
    out_dir = RESULTS / "pmo"
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = [t for t in args.tasks.split(",") if t]
    if not args.table_only:
        jobs = [(t, m, s, args.budget, str(out_dir / f"{t}__{file_spec(m)}__b{args.budget}__s{s}.json"))
                for s in seeds for t in tasks for m in methods]
        todo = [j for j in jobs if not Path(j[-1]).exists()]
        print(f"{len(jobs) - len(todo)} runs already done, {len(todo)} to run", flush=True)
        for msg in _map(run_one, todo, args.jobs, args.model, args.threads):
            print(msg, flush=True)
    found = [re.match(r"(.+?)__(.+)__b(\d+)__s\d+\.json$", p.name) for p in out_dir.glob("*.json")]
    found = [m.groups() for m in found if m]
    budgets = sorted({int(b) for _, _, b in found}, key=lambda b: (b != args.budget, -b))
    if args.docs and args.budget not in budgets:
        print(f"--docs: no {args.budget:,}-call results in {out_dir}; {DOCS_PAGE} left as it is", file=sys.stderr)
        return 2
    # the tables hold every run on file, not only this invocation's: PMO's task order, then the methods
    order = [x for t in dict.fromkeys(DEFAULT_TASKS + list(PUBLISHED)) for x in (t, t + PMO_SUFFIX)]
    order += sorted({t for t, _, _ in found} - set(order))
    all_tasks = [t for t in order if any(t == f[0] for f in found)]
    all_methods = sorted({m for _, m, _ in found}, key=lambda m: ({"random": 0, "bo": 1, "gradient": 2}.get(m, 3), m))
    flagged, check = screening_check(all_tasks, out_dir)
    sections = [write_table(out_dir, b, all_tasks, all_methods, flagged) for b in budgets]
    (RESULTS / "pmo.md").write_text("# PMO benchmark: top-10 AUC of molvae's latent optimizers\n\n"
                                    + "\n".join(sections) + "\n" + check)
    print(f"wrote {RESULTS / 'pmo.md'}", flush=True)
    if args.docs:
        return render_docs_page(DOCS_PAGE)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
