"""The validation reference for choices (prior, decoding, guided settings): molecules of the model's own training
file, never a test split. A choice is scored by FCD against these molecules' ChemNet statistics; the test splits
are scored once, with the choice made (benchmarks/model_quality.py).

    from validation import reference, REFERENCE_HELP
    ref = reference(args.reference, skip=args.fit)   # for metrics.fcd(gen, ref): a Reference, or the shipped name
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "moses_train_300k.csv.gz"  # the bundled models' training molecules (MOSES train)
ROWS = 30_000
REFERENCE_HELP = (f"FCD reference: 'validation' ({ROWS:,} molecules of the training file, after the rows a fit"
                  " used; choices are made on it) or 'moses_test' (the test split: report a made choice once)")


def validation_smiles(data: Path = DATA, skip: int = 0, rows: int = ROWS) -> list:
    """Rows [skip, skip + rows) of the training file as SMILES (molecules the model was trained on but no fit in
    the script saw)."""
    from molvae.io import tables

    smiles = tables.read_smiles(data)[skip: skip + rows]
    if len(smiles) < rows:
        raise SystemExit(f"{data}: {len(smiles)} molecules after row {skip}; the validation reference needs {rows}")
    return smiles


def reference(name: str, data: Path = DATA, skip: int = 0, rows: int = ROWS):
    """What metrics.fcd takes as reference: for 'validation', the ChemNet statistics of validation_smiles (once,
    cached on disk); any other name is a shipped reference, returned as it is."""
    if name != "validation":
        return name
    from molvae import metrics

    return metrics.Reference.from_smiles(validation_smiles(data, skip, rows))
