"""Training data for a model that reads what users bring: ZINC 250k's train split together with MOSES train,
deduplicated, with nothing a benchmark holds out.

    python data/make_broad.py                                   # MOSES: data/moses_train_full.csv.gz if present
    python data/make_broad.py --moses data/moses_train_300k.csv.gz --moses-rows 100000 -o data/broad_100k.csv.gz

Needs data/zinc250k_train.csv.gz (data/make_zinc.py). Left out, so the benchmarks stay held out:
- every molecule of the ZINC 250k held-out split and of both MOSES test splits (canonical isomeric SMILES);
- MOSES molecules whose scaffold falls on the held-out side of the ZINC split (make_zinc.bucket < 10);
- ZINC molecules whose scaffold is a scaffold of the MOSES scaffold-test split.
Writes one SMILES column (ZINC first, then MOSES) and prints what each rule removed.
"""
import argparse
import multiprocessing as mp
from pathlib import Path

import pandas as pd
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

from molvae import chem

HERE = Path(__file__).parent


def _scaffold(mol) -> str:
    try:
        return Chem.MolToSmiles(MurckoScaffold.GetScaffoldForMol(mol))
    except (ValueError, RuntimeError):
        return ""


def _canon_scaffold(smiles: str) -> tuple[str, str]:
    mol = chem.to_mol(smiles)
    if mol is None:
        return "", ""
    return Chem.MolToSmiles(mol), _scaffold(mol)


def _read(path, rows: int = 0) -> list[str]:
    col = pd.read_csv(path, usecols=["SMILES"])["SMILES"].astype(str).tolist()
    return col[:rows] if rows else col


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    full = HERE / "moses_train_full.csv.gz"
    ap.add_argument("--moses", default=str(full if full.exists() else HERE / "moses_train_300k.csv.gz"))
    ap.add_argument("--moses-rows", type=int, default=0, help="the first N rows of --moses (0: all)")
    ap.add_argument("-o", "--out", default=str(HERE / "zinc_moses_train.csv.gz"))
    args = ap.parse_args()
    import sys

    sys.path.insert(0, str(HERE))
    from make_zinc import bucket

    with mp.Pool() as pool:
        def canon(smiles):
            return pool.map(_canon_scaffold, smiles, chunksize=2000)

        zinc = canon(_read(HERE / "zinc250k_train.csv.gz"))
        moses = canon(_read(args.moses, args.moses_rows))
        held = {c for c, _ in canon(_read(HERE / "zinc250k_test.csv.gz") + _read(HERE / "moses_test.csv.gz"))}
        scaf_test = canon(_read(HERE / "moses_test_scaffolds.csv.gz"))
    held |= {c for c, _ in scaf_test}
    scaf_held = {s for _, s in scaf_test}
    removed = {"unreadable": 0, "held-out molecule": 0, "MOSES scaffold-test scaffold": 0,
               "ZINC held-out scaffold": 0, "duplicate": 0}
    kept, seen = [], set()
    for source, rows in (("zinc", zinc), ("moses", moses)):
        for smi, scaf in rows:
            if not smi:
                why = "unreadable"
            elif smi in held:
                why = "held-out molecule"
            elif source == "zinc" and scaf in scaf_held:
                why = "MOSES scaffold-test scaffold"
            elif source == "moses" and bucket(scaf) < 10:
                why = "ZINC held-out scaffold"
            elif smi in seen:
                why = "duplicate"
            else:
                seen.add(smi)
                kept.append(smi)
                continue
            removed[why] += 1
    pd.DataFrame({"SMILES": kept}).to_csv(args.out, index=False)
    print(f"{len(zinc)} ZINC + {len(moses)} MOSES rows -> {len(kept)} molecules in {args.out}; removed: "
          + ", ".join(f"{k} {v}" for k, v in removed.items()))


if __name__ == "__main__":
    main()
