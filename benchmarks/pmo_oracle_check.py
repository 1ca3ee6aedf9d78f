"""PMO's own oracle code as the judge of molvae's task objectives.

PMO (Gao et al. 2022) scored its 20 tasks with PyTDC 0.3.6. PyTDC is no dependency of molvae: get its sdist
once with

    pip download --no-deps PyTDC==0.3.6 -d /tmp/tdc

and this script extracts tdc/chem_utils/oracle/oracle.py into a temporary folder at run time and imports it on
its own, with stand-ins for its two `...utils` imports (download and install helpers, which the 20 tasks never
call) and for `rdkit.six` (gone from RDKit; the module imports iteritems from it). No scoring line is changed
and nothing of TDC's is written into this repository.

Molecules: a seeded sample of the MOSES test split and of the ZINC 250k held-out split, every molecule in
molvae's optimizer outputs under benchmarks/results (the top-10 of each PMO run, the top-3 of each penalized
logP run) and the tasks' target drugs, deduplicated by canonical SMILES. TDC gets each molecule's canonical
SMILES, as PMO's oracle wrapper passes it (Chem.MolToSmiles before the oracle call); molvae's objective gets
the SMILES as written. Per task: the largest absolute difference over the molecules TDC scores as a number,
how many differ by more than 1e-6, how many NaNs TDC returns and what molvae gives there. The four tasks that
PyTDC 0.3.6 scores differently are compared twice: with molvae's GuacaMol-scored objective and with its PMO
variant (molvae.objectives.tasks.PMO_VARIANTS). sitagliptin_mpo_pmo is judged by TDC 0.3.6's sitagliptin_mpo with
the modifiers it builds applied (sitagliptin_applied): as released, that function returns the geometric mean of
the raw values, which does not reproduce PMO's published numbers (the screening table shows both).

A second table (--screen molecules of ZINC, seeded, those four tasks): the top-10 mean under TDC 0.3.6 and
under both molvae objectives, beside PMO's published Screening top-10 (10,000 random ZINC 250k molecules).

    python benchmarks/pmo_oracle_check.py --sdist /tmp/tdc/PyTDC-0.3.6.tar.gz
"""
import argparse
import gzip
import importlib
import json
import sys
import tarfile
import tempfile
import time
import types
import warnings
from pathlib import Path

import numpy as np

from provenance import markdown_line, record, save, sha256

ROOT = Path(__file__).resolve().parent.parent
ORACLE_PATH = "PyTDC-0.3.6/tdc/chem_utils/oracle/oracle.py"
UTILS_STANDIN = '''"""Stand-ins for tdc.utils: the 20 PMO tasks call none of these."""


def oracle_load(*args, **kwargs):
    raise RuntimeError("oracle_load: no downloads in this check")


def print_sys(*args):
    print(*args)


def install(*args):
    raise RuntimeError("install: no installs in this check")
'''
TOLERANCE = 1e-6


# -- the judge ------------------------------------------------------------------------------------------------
def load_tdc_oracles(sdist: Path):
    """TDC 0.3.6's oracle module, imported from a temporary package built around the extracted file."""
    if not sdist.is_file():
        raise SystemExit(f"{sdist}: not found; get it with `pip download --no-deps PyTDC==0.3.6 -d {sdist.parent}`")
    pkg = Path(tempfile.mkdtemp(prefix="tdc036_")) / "tdc036"
    oracle_dir = pkg / "chem_utils" / "oracle"
    oracle_dir.mkdir(parents=True)
    for d in (pkg, pkg / "chem_utils", oracle_dir):
        (d / "__init__.py").write_text("")
    (pkg / "utils.py").write_text(UTILS_STANDIN)
    with tarfile.open(sdist) as tf:
        (oracle_dir / "oracle.py").write_bytes(tf.extractfile(tf.getmember(ORACLE_PATH)).read())
    six = types.ModuleType("rdkit.six")
    six.iteritems = lambda d: iter(d.items())
    sys.modules.setdefault("rdkit.six", six)
    sys.path.insert(0, str(pkg.parent))
    return importlib.import_module("tdc036.chem_utils.oracle.oracle")


def tdc_scores(fn, canonical: list) -> tuple[np.ndarray, int]:
    """TDC's score per canonical SMILES (NaN where it returns NaN or raises) and the number of molecules on which
    it raised."""
    out = np.empty(len(canonical))
    errors = 0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for i, s in enumerate(canonical):
            try:
                out[i] = float(fn(s))
            except Exception:  # noqa: BLE001 - counted and reported, never hidden
                out[i], errors = np.nan, errors + 1
    return out, errors


# -- the molecules --------------------------------------------------------------------------------------------
def read_column(path: Path) -> list:
    with gzip.open(path, "rt") as fh:
        next(fh)
        return [line.strip().split(",")[0] for line in fh if line.strip()]


def sample(path: Path, n: int, seed: int) -> list:
    rows = read_column(path)
    idx = np.random.default_rng(seed).choice(len(rows), size=min(n, len(rows)), replace=False)
    return [rows[i] for i in sorted(idx)]


def optimizer_outputs() -> list:
    """Every SMILES in the top-10 of the PMO runs and the top-3 of the penalized logP runs on file."""
    out = []
    for p in sorted((ROOT / "benchmarks" / "results" / "pmo").glob("*__b*__s*.json")):
        out += [s for s, _ in json.loads(p.read_text()).get("top10", [])]
    for p in sorted((ROOT / "benchmarks" / "results" / "pmo_plogp").glob("top3__*.json")):
        out += [s for s, _ in json.loads(p.read_text()).get("top3", [])]
    return out


def target_drugs() -> list:
    from molvae.objectives import tasks as T

    return [T.CELECOXIB, T.TROGLITAZONE, T.THIOTHIXENE, T.ALBUTEROL, T.MESTRANOL, T.CAMPHOR, T.MENTHOL,
            T.TADALAFIL, T.SILDENAFIL, T.OSIMERTINIB, T.FEXOFENADINE, T.RANOLAZINE, T.PERINDOPRIL, T.AMLODIPINE,
            T.SITAGLIPTIN, T.ZALEPLON, T.HOP_START]


def molecules(n: int, seed: int) -> tuple[list, list, dict]:
    """(SMILES as written, their canonical SMILES, molecules per source), first occurrence kept."""
    from rdkit import Chem

    sources = {"moses_test": sample(ROOT / "data" / "moses_test.csv.gz", n, seed),
               "zinc250k_test": sample(ROOT / "data" / "zinc250k_test.csv.gz", n, seed),
               "optimizer_outputs": optimizer_outputs(), "target_drugs": target_drugs()}
    raw, canon, seen, counts = [], [], set(), {}
    for name, smiles in sources.items():
        counts[name] = 0
        for s in smiles:
            mol = Chem.MolFromSmiles(s)
            c = None if mol is None else Chem.MolToSmiles(mol)
            if c is None or c in seen:
                continue
            seen.add(c)
            raw.append(s)
            canon.append(c)
            counts[name] += 1
    return raw, canon, counts


# -- the comparison -------------------------------------------------------------------------------------------
def compare(tdc: np.ndarray, ours: np.ndarray) -> dict:
    ok = np.isfinite(tdc)
    diff = np.abs(tdc[ok] - ours[ok])
    return {"max_abs_diff": float(diff.max()) if diff.size else None,
            "n_over_tolerance": int((diff > TOLERANCE).sum()), "n_compared": int(ok.sum()),
            "tdc_nan": int((~ok).sum()), "molvae_at_tdc_nan": sorted({float(v) for v in ours[~ok]}),
            "tdc_max": float(np.nanmax(tdc)), "molvae_max": float(ours.max())}


def sitagliptin_applied(oracles):
    """TDC 0.3.6's sitagliptin_mpo with the three Gaussian modifiers it builds applied to the values it computes
    (as later TDC releases do, in their sitagliptin_mpo_prev): every piece is TDC's own (its fingerprint, its
    modifiers, its isomer scorer, its gmean); only the application is added. The judge of sitagliptin_mpo_pmo."""
    from rdkit import Chem, DataStructs
    from rdkit.Chem import Descriptors

    o = oracles
    o.sitagliptin_mpo("C")  # builds the module's globals (target fingerprint, modifiers, isomer scorer)

    def score(smiles: str) -> float:
        mol = Chem.MolFromSmiles(smiles)
        sim = DataStructs.TanimotoSimilarity(o.smiles_2_fingerprint_ECFP4(smiles), o.sitagliptin_fp_ecfp4)
        return o.gmean([o.sitagliptin_similar_modifier(sim), o.sitagliptin_logp_modifier(Descriptors.MolLogP(mol)),
                        o.sitagliptin_tpsa_modifier(Descriptors.TPSA(mol)), o.isomers_scoring_C16H15F6N5O(smiles)])
    return score


def judges(oracles) -> dict:
    """The TDC function each molvae objective is checked against: TDC's task function of the same name, but for
    sitagliptin_mpo_pmo the applied form (sitagliptin_applied)."""
    return {"sitagliptin_mpo_pmo": sitagliptin_applied(oracles)}


def check_tasks(oracles, raw: list, canon: list) -> dict:
    from molvae.objectives import PMO_VARIANTS, TASKS, get_objective

    rows, special = {}, judges(oracles)
    for task in TASKS:
        t = time.time()
        tdc, errors = tdc_scores(getattr(oracles, task), canon)
        for name in (task, f"{task}_pmo"):
            if name in special:
                judged, errs = tdc_scores(special[name], canon)
                rows[name] = {"pmo_task": task, "judge": f"{task}, modifiers applied",
                              **compare(judged, get_objective(name)(raw)), "tdc_errors": errs}
            elif name == task or name in PMO_VARIANTS:
                rows[name] = {"pmo_task": task, **compare(tdc, get_objective(name)(raw)), "tdc_errors": errors}
        print(f"{task}: {rows[task]['max_abs_diff']:.2e} ({time.time() - t:.0f} s)", flush=True)
    return rows


def screening(oracles, n: int, seed: int) -> dict:
    """Top-10 means of n seeded ZINC held-out molecules under TDC and molvae, for the four PMO variants' tasks."""
    from rdkit import Chem

    from molvae.objectives import PMO_VARIANTS, get_objective
    from pmo import PMO_SCREENING_TOP10

    raw = sample(ROOT / "data" / "zinc250k_test.csv.gz", n, seed + 1)
    canon = [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in raw]
    out, special = {}, judges(oracles)
    for variant in PMO_VARIANTS:
        task = variant.removesuffix("_pmo")
        tdc, _ = tdc_scores(getattr(oracles, task), canon)
        top = {"tdc_0.3.6": tdc[np.isfinite(tdc)], "molvae_pmo": get_objective(variant)(raw),
               "molvae": get_objective(task)(raw)}
        if variant in special:
            applied, _ = tdc_scores(special[variant], canon)
            top["tdc_0.3.6_applied"] = applied[np.isfinite(applied)]
        out[task] = {k: float(np.sort(v)[-10:].mean()) for k, v in top.items()}
        out[task]["pmo_screening_published"] = PMO_SCREENING_TOP10[task]
    return out


# -- report ---------------------------------------------------------------------------------------------------
def _num(v) -> str:
    return "n/a" if v is None else f"{v:.1e}" if v else "0"


def _span(values: list) -> str:
    return f"{values[0]:g}" if values[0] == values[-1] else f"{values[0]:.1e} to {values[-1]:.1e}"


def markdown(res: dict) -> str:
    rows = ["| PMO task | molvae objective | largest abs. difference | molecules > 1e-6 | TDC NaN (molvae there) |",
            "|---|---|---|---|---|"]
    for name, r in res["tasks"].items():
        nan = f"{r['tdc_nan']} ({_span(r['molvae_at_tdc_nan'])})" if r["tdc_nan"] else "0"
        judge = f" (judge: TDC's {r['judge']})" if r.get("judge") else ""
        rows.append(f"| {r['pmo_task']} | {name}{judge} | {_num(r['max_abs_diff'])} | {r['n_over_tolerance']} |"
                    f" {nan} |")
    scr = ["| task | TDC 0.3.6 | TDC 0.3.6, modifiers applied | molvae `_pmo` | molvae (GuacaMol) |"
           " PMO Screening (published) |", "|---|---|---|---|---|---|"]
    scr += [f"| {t} | {v['tdc_0.3.6']:.3f} | {v['tdc_0.3.6_applied']:.3f} |" if "tdc_0.3.6_applied" in v
            else f"| {t} | {v['tdc_0.3.6']:.3f} | (same) |" for t, v in res["screening"].items()]
    scr[2:] = [row + f" {v['molvae_pmo']:.3f} | {v['molvae']:.3f} | {v['pmo_screening_published']:.3f} |"
               for row, v in zip(scr[2:], res["screening"].values())]
    m = res["molecules"]
    return f"""# PMO's oracles (PyTDC {res['tdc_version']}) against molvae's objectives

{m['total']:,} molecules (MOSES test {m['moses_test']:,}, ZINC 250k held-out {m['zinc250k_test']:,}, optimizer outputs
{m['optimizer_outputs']:,}, target drugs {m['target_drugs']}; seed {res['seed']}). TDC scores canonical SMILES (as PMO's
oracle wrapper passes them), molvae the SMILES as written. Differences over the molecules TDC scores as a
number; TDC raised an exception on {res['tdc_errors_total']} (molecule, task) pairs.

{chr(10).join(rows)}

Top-10 mean of {res['screen_n']:,} seeded ZINC 250k held-out molecules; PMO's Screening column: top-10 after
10,000 random ZINC 250k molecules (pmo-benchmark.github.io).

{chr(10).join(scr)}

PyTDC sdist sha256 {res['sdist_sha256'][:16]}; RDKit {res['rdkit']}, SciPy {res['scipy']}, NumPy {res['numpy']}.
{res['seconds']:.0f} s.

{markdown_line(res)}

Reproduce: `{res['command']}`
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sdist", type=Path, default=Path("/tmp/tdc/PyTDC-0.3.6.tar.gz"))
    ap.add_argument("--n", type=int, default=2500, help="molecules sampled from each of MOSES test and ZINC")
    ap.add_argument("--screen", type=int, default=10000, help="ZINC molecules for the top-10 table")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--name", default="pmo_oracle_check")
    args = ap.parse_args(argv)
    from rdkit import RDLogger

    RDLogger.DisableLog("rdApp.*")
    t = time.time()
    oracles = load_tdc_oracles(args.sdist)
    raw, canon, counts = molecules(args.n, args.seed)
    print(f"{len(raw)} molecules: {counts}", flush=True)
    tasks = check_tasks(oracles, raw, canon)
    res = {"tdc_version": "0.3.6", "sdist_sha256": sha256(args.sdist), "seed": args.seed,
           "molecules": {**counts, "total": len(raw)}, "tolerance": TOLERANCE, "tasks": tasks,
           "tdc_errors_total": sum(r["tdc_errors"] for n, r in tasks.items() if n == r["pmo_task"]),
           "screen_n": args.screen, "screening": screening(oracles, args.screen, args.seed)}
    import rdkit
    import scipy

    res.update({"rdkit": rdkit.__version__, "scipy": scipy.__version__, "numpy": np.__version__,
                "seconds": round(time.time() - t, 1),
                "command": f"python benchmarks/pmo_oracle_check.py --n {args.n} --screen {args.screen}"
                           f" --seed {args.seed}", **record({})})
    save(args.name, res, markdown(res))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
