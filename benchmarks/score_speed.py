"""Batch scoring speed and memory, measured side by side in one run (issue 3).

1. A plain serial RDKit loop computing the same columns as `molvae score --no-model` (parse, canonical SMILES,
   MW, logP, QED, SA, TPSA, HBD, HBA, rotatable bonds, rings, plogp, Lipinski violations, PAINS and Brenk
   alerts), written here independently of molvae's code; and the same function in a plain
   multiprocessing.Pool with one process per core, so the table shows what molvae adds beyond parallelism.
2. `molvae score --no-model` (default workers: all cores) on the same molecules.
3. Full scoring with the bundled model (VAE columns too) on the same molecules.
4. Optionally (--big N): properties-only scoring of N rows of MOSES train, with the peak resident memory of the
   whole process tree (sampled every 0.2 s), to show memory stays bounded.

    python benchmarks/score_speed.py [-n 20000] [--big 1000000 [--only-big] [--keep OUT.parquet]]

Writes benchmarks/results/score_speed.json (score_memory.json with --only-big), with the provenance fields of
benchmarks/provenance.py (the weights are the bundled default model's, which full scoring uses), and, from it,
the .md table.
"""
import argparse
import gzip
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from provenance import markdown_line, record, save

ROOT = Path(__file__).resolve().parent.parent


_CATALOGS = {}


def _setup():
    """RDKit's PAINS and Brenk catalogues and the Contrib SA scorer, loaded once per process."""
    from rdkit import RDConfig, RDLogger
    from rdkit.Chem import FilterCatalog

    RDLogger.DisableLog("rdApp.*")
    sys.path.append(os.path.join(RDConfig.RDContribDir, "SA_Score"))
    for name in ("PAINS", "BRENK"):
        p = FilterCatalog.FilterCatalogParams()
        p.AddCatalog(getattr(FilterCatalog.FilterCatalogParams.FilterCatalogs, name))
        _CATALOGS[name] = FilterCatalog.FilterCatalog(p)


def row(s):
    """The columns of `molvae score --no-model` for one SMILES, written plainly (None if RDKit rejects it)."""
    from rdkit import Chem
    from rdkit.Chem import QED, Crippen, Descriptors, Lipinski, rdMolDescriptors

    if not _CATALOGS:
        _setup()
    import sascorer

    m = Chem.MolFromSmiles(s)
    if m is None:
        return None
    logp, sa = Crippen.MolLogP(m), sascorer.calculateScore(m)
    ring = max((len(r) for r in m.GetRingInfo().AtomRings()), default=0)
    mw, hbd, hba = Descriptors.MolWt(m), Lipinski.NumHDonors(m), Lipinski.NumHAcceptors(m)
    return (Chem.MolToSmiles(m), mw, logp, QED.qed(m), sa, rdMolDescriptors.CalcTPSA(m), hbd, hba,
            rdMolDescriptors.CalcNumRotatableBonds(m), rdMolDescriptors.CalcNumRings(m),
            logp - sa - max(ring - 6, 0), (mw > 500) + (logp > 5) + (hbd > 5) + (hba > 10),
            [e.GetDescription() for e in _CATALOGS["PAINS"].GetMatches(m)],
            [e.GetDescription() for e in _CATALOGS["BRENK"].GetMatches(m)])


def serial_loop(smiles):
    return [row(s) for s in smiles]


def pool_loop(smiles, processes: int):
    """The same function over the molecules in a plain multiprocessing.Pool: what parallelism alone gives."""
    with multiprocessing.Pool(processes) as pool:
        return pool.map(row, smiles, chunksize=256)


def run_tree(cmd):
    """Run a command; return (seconds, peak RSS in MiB summed over its process tree)."""
    t = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def watch():
        p = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                rss = sum(q.memory_info().rss for q in [p, *p.children(recursive=True)])
                peak[0] = max(peak[0], rss)
            except psutil.Error:
                pass
            time.sleep(0.2)

    th = threading.Thread(target=watch)
    th.start()
    _, err = proc.communicate()
    th.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {err.strip().splitlines()[-1:]}")
    return time.time() - t, peak[0] / 2**20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=20_000)
    ap.add_argument("--big", type=int, default=0, help="rows for the memory run (0: skip)")
    ap.add_argument("--only-big", action="store_true", help="skip the timing comparison")
    ap.add_argument("--keep", type=Path, help="keep the --big run's output table here (e.g. for training labels)")
    args = ap.parse_args()
    with gzip.open(ROOT / "data" / "moses_test.csv.gz", "rt") as fh:
        next(fh)
        smiles = [next(fh).strip() for _ in range(args.n)]
    tmp = Path(tempfile.mkdtemp())
    src = tmp / "in.csv"
    src.write_text("SMILES\n" + "\n".join(smiles) + "\n")
    molvae = [sys.executable, "-m", "molvae", "score", str(src), "--quiet", "--model", "moses"]

    prov = record({} if args.only_big else {"moses": "moses"})  # full scoring: the bundled MOSES model
    res = {"rows": {}}
    if not args.only_big:
        t = time.time()
        serial_loop(smiles)
        t_serial = time.time() - t
        t = time.time()
        pool_loop(smiles, os.cpu_count() or 1)
        t_pool = time.time() - t
        t_props, mem_props = run_tree([*molvae, "-o", str(tmp / "p.csv"), "--no-model"])
        t_full, mem_full = run_tree([*molvae, "-o", str(tmp / "f.csv")])
        res["rows"].update(serial={"rows": args.n, "seconds": round(t_serial, 1), "peak_rss_mib": None},
                           pool={"rows": args.n, "seconds": round(t_pool, 1), "peak_rss_mib": None,
                                 "processes": os.cpu_count() or 1},
                           no_model={"rows": args.n, "seconds": round(t_props, 1), "peak_rss_mib": round(mem_props)},
                           model={"rows": args.n, "seconds": round(t_full, 1), "peak_rss_mib": round(mem_full)})
        res["props_over_serial"] = round(t_props / t_serial, 2)
        res["props_over_pool"] = round(t_props / t_pool, 2)
    if args.big:
        full = ROOT / "data" / "moses_train_full.csv.gz"
        if not full.exists():
            raise SystemExit("--big needs data/moses_train_full.csv.gz (python data/make_subsets.py WHEEL --full)")
        big = tmp / "big.csv"
        with gzip.open(full, "rt") as fin, open(big, "w") as fout:
            for i, line in enumerate(fin):
                if i > args.big:
                    break
                fout.write(line)
        t_big, mem_big = run_tree([sys.executable, "-m", "molvae", "score", str(big), "--quiet", "--no-model",
                                   "-o", str(args.keep or tmp / "big_out.parquet")])
        res["rows"]["big_no_model"] = {"rows": args.big, "seconds": round(t_big, 1), "peak_rss_mib": round(mem_big)}
    res.update(prov)
    name = "score_memory" if args.only_big else "score_speed"
    save(name, res, markdown(res))


LABELS = {"serial": "plain serial RDKit loop, same columns, {n} MOSES test molecules",
          "pool": "the same loop in a plain multiprocessing.Pool of {p} processes",
          "no_model": "`molvae score --no-model`, {n} MOSES test molecules",
          "model": "`molvae score` (bundled model), {n} MOSES test molecules",
          "big_no_model": "`molvae score --no-model`, {n} MOSES train rows -> parquet"}


def markdown(res: dict) -> str:
    lines = [f"| what ({res['cores']} cores) | seconds | rows/s | peak RSS (MiB) |", "|---|---|---|---|"]
    for key, r in res["rows"].items():
        mem = "-" if r["peak_rss_mib"] is None else f"{r['peak_rss_mib']:,}"
        what = LABELS[key].format(n=f"{r['rows']:,}", p=r.get("processes"))
        lines.append(f"| {what} | {r['seconds']:.1f} | {r['rows'] / r['seconds']:,.0f} | {mem} |")
    if "props_over_serial" in res:
        lines += ["", f"properties-only time / serial loop time: {res['props_over_serial']:.2f} (target <= 0.67)"]
    if "props_over_pool" in res:
        lines += [f"properties-only time / Pool loop time: {res['props_over_pool']:.2f}"]
    return "\n".join(lines + ["", markdown_line(res)]) + "\n"


if __name__ == "__main__":
    main()
