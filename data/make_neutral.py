"""The broad training file with a neutral copy of each charged training molecule, and its validation rows fixed.

    python data/make_neutral.py            # data/zinc_moses_100k.csv.gz -> data/zinc_moses_100k_neutral.csv.gz

ZINC 250k stores molecules as protonated at pH 7 (amines as [NH+], [NH2+], [NH3+]; acids as carboxylates);
ChEMBL exports, vendor catalogues and drug lists hold the neutral forms. A model trained only on the stored forms
reads the neutral ones worse (training/broad/choose6.md). This file adds, for every training molecule that RDKit's
Uncharger changes, the neutral form as a further training row.

Written with a `split` column (molvae train honours it, see docs/training.md): the validation rows are the ones
`molvae train` carved from the input file (seed 0, 2% at most 2000, in that order), so runs on either file are
scored on the same molecules. Left out of the neutral copies: any that equal a molecule of the input file, the
neutral form of a validation molecule, a held-out molecule (ZINC 250k test, both MOSES test splits) or its neutral
form, or one of benchmarks/reach.py's approved drugs.
"""
import argparse
import multiprocessing as mp
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit.Chem.MolStandardize import rdMolStandardize

from molvae import chem
from molvae.train.data import random_split

HERE = Path(__file__).parent


def forms(smiles: str) -> tuple[str, str]:
    """(canonical SMILES, canonical SMILES of the neutral form by RDKit's Uncharger); ("", "") when RDKit cannot
    read it. One parse for both."""
    mol = chem.to_mol(smiles)
    if mol is None:
        return "", ""
    return chem.mol_to_smiles(mol), chem.mol_to_smiles(rdMolStandardize.Uncharger().uncharge(mol))


def neutral(smiles: str) -> str:
    return forms(smiles)[1]


def validation_rows(n: int) -> np.ndarray:
    """The rows `molvae train` carves for validation from an n-row file with no unusable rows, at the campaign's
    settings (seed 0, 2%, at most 2,000)."""
    return random_split(n, 0, 0.02, 2000)[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(HERE / "zinc_moses_100k.csv.gz"))
    ap.add_argument("-o", "--out", default=str(HERE / "zinc_moses_100k_neutral.csv.gz"))
    a = ap.parse_args()
    rows = pd.read_csv(a.data, usecols=["SMILES"])["SMILES"].astype(str).tolist()
    sys.path.insert(0, str(HERE.parent / "benchmarks"))
    from reach import DRUGS

    held_files = ["zinc250k_test.csv.gz", "moses_test.csv.gz", "moses_test_scaffolds.csv.gz"]
    held_raw = [s for f in held_files for s in pd.read_csv(HERE / f, usecols=["SMILES"])["SMILES"].astype(str)]
    with mp.Pool() as pool:
        canon, neut = zip(*pool.map(forms, rows, chunksize=2000))
        held = {f for pair in pool.map(forms, held_raw, chunksize=2000) for f in pair if f}
    if list(canon) != rows:
        raise SystemExit(f"{a.data} is not canonical SMILES (write it with data/make_broad.py)")
    val = validation_rows(len(rows))
    is_val = np.zeros(len(rows), dtype=bool)
    is_val[val] = True
    in_file = set(rows)
    banned = held | {neut[i] for i in val} | {chem.canonical(s) for s in DRUGS.values()}
    copies, seen = [], set()
    removed = {"in the file": 0, "validation, held out or a drug": 0, "duplicate": 0}
    for i in np.flatnonzero(~is_val):
        n = neut[i]
        if not n or n == rows[i]:
            continue
        why = ("in the file" if n in in_file else "validation, held out or a drug" if n in banned
               else "duplicate" if n in seen else "")
        if why:
            removed[why] += 1
            continue
        seen.add(n)
        copies.append(n)
    train = [rows[i] for i in np.flatnonzero(~is_val)]
    out = pd.DataFrame({"SMILES": [rows[i] for i in val] + train + copies,
                        "split": ["valid"] * len(val) + ["train"] * (len(train) + len(copies))})
    out.to_csv(a.out, index=False)
    print(f"{len(rows)} rows ({len(val)} validation) + {len(copies)} neutral copies of training molecules -> {a.out};"
          " copies left out: " + ", ".join(f"{k} {v}" for k, v in removed.items()))


if __name__ == "__main__":
    main()
