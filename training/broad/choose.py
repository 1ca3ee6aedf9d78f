"""Which weights to keep: candidate model directories scored on the pilots' 500 validation rows of the broad
split (exact greedy reconstruction, NLL, KL, dimensions above twice the free-bits floor); never on test data.

    python training/broad/choose.py NAME=MODEL_DIR [NAME=MODEL_DIR ...] [--out training/broad/choose.md]

Uses training/broad/pilot.py's split and scoring, so the figures compare with pilot.md and pilot2.md. A last
column scores the neutral forms of the validation molecules that neutralizing changes (data/make_neutral.py).

The rule (written before run 7's candidates were scored; choose6.md and earlier chose on the stored forms alone):
the highest exact reconstruction over the 500 stored forms and the neutral forms together, each molecule counted
once, since users bring both (ZINC stores acids and amines charged, drug lists and ChEMBL neutral).
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training" / "broad"))
from pilot import held_out, smiles_of, split  # noqa: E402
from provenance import markdown_line, record  # noqa: E402  (pilot.py puts benchmarks/ on the path)


def neutral_forms(smiles: list[str]) -> list[str]:
    """The neutral forms (data/make_neutral.py) of the molecules that neutralizing changes."""
    sys.path.insert(0, str(ROOT / "data"))
    from make_neutral import forms

    return [n for c, n in map(forms, smiles) if n and n != c]


def both(row: dict, n_stored: int, n_neutral: int) -> float:
    """Exact reconstruction over the stored and the neutral forms together, each molecule counted once."""
    hits = row["heldout_recon_exact"] * n_stored + row["neutral_recon_exact"] * n_neutral
    return hits / (n_stored + n_neutral)


def choose(rows: dict, n_stored: int, n_neutral: int) -> str:
    """The candidate with the highest exact reconstruction over both forms (the first one on a tie)."""
    return max(rows, key=lambda n: both(rows[n], n_stored, n_neutral))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("candidates", nargs="+", help="NAME=MODEL_DIR")
    ap.add_argument("--data", default="data/zinc_moses_100k.csv.gz")
    ap.add_argument("--campaign", default="/work/campaign/broad", help="where the prepared data is")
    ap.add_argument("--out", default=str(ROOT / "training/broad/choose.md"))
    a = ap.parse_args()
    vocab, ts, val_rows, _ = split(a.data, Path(a.campaign))
    val = smiles_of(vocab, ts, val_rows[:500])
    changed = neutral_forms(smiles_of(vocab, ts, val_rows))
    cands = dict(c.split("=", 1) for c in a.candidates)
    rows = {name: {**held_out(Path(d), val),
                   "neutral_recon_exact": held_out(Path(d), changed)["heldout_recon_exact"]} for name, d in cands.items()}
    best = choose(rows, len(val), len(changed))
    res = {"heldout_rows": 500, "neutral_rows": len(changed), "candidates": cands, "rows": rows, "chosen": best,
           **record({n: Path(d) for n, d in cands.items()})}
    lines = ["# Broad model: candidate weights on 500 validation rows", "",
             "| candidate | exact recon | NLL | KL | dims > 2x floor | neutral forms: exact recon | both |",
             "|---|---|---|---|---|---|---|"]
    lines += [f"| {n} | {r['heldout_recon_exact']:.3f} | {r['heldout_nll']:.2f} | {r['heldout_kl']:.1f} |"
              f" {r['dims_above_2x_floor']} | {r['neutral_recon_exact']:.3f} |"
              f" {both(r, len(val), len(changed)):.3f} |" for n, r in rows.items()]
    lines += ["", f"Neutral forms: the {len(changed)} of the 2,000 validation molecules that RDKit's Uncharger"
              " changes (ZINC stores amines protonated and acids as carboxylates), neutralized.",
              "", f"Chosen: {best} (the highest exact reconstruction over both forms, {len(val)} + {len(changed)} molecules,"
              " each counted once).", "", markdown_line(res)]
    Path(a.out).write_text("\n".join(lines) + "\n")
    Path(a.out).with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
