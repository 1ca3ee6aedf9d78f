"""Guided sampling's two settings chosen on validation data: how many prior draws the property head ranks per
latent decoded (`oversample`, default 20) and the step of the proposals near earlier hits (`local_scale`; 0.5
until this choice, whose run, benchmarks/results/guided_choice_moses.md, set the default to 0: off).

    python benchmarks/guided_choice.py [--model default] [--hits 100]

Each setting is varied around the defaults (oversample 5, 20, 50 at local scale 0.5; local scale 0, 0.25, 1.0
at oversample 20), on the three conditions of benchmarks/guided.py. A setting is scored by hits per 1,000
decoded latents (the cost) and by FCD of its hits against validation molecules meeting the same condition
(30,000 molecules of the model's training file, benchmarks/validation.py; never a test split). Rule: the
setting with the most hits per 1,000 decoded (mean over conditions) among those whose mean FCD is within 10% of
the best mean FCD. Writes benchmarks/results/guided_choice_<model>.json and .md.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from guided import CONDITIONS, meets  # noqa: E402
from provenance import markdown_line, record, save  # noqa: E402
from validation import ROWS, validation_smiles  # noqa: E402

from molvae import MolVAE, chem, metrics  # noqa: E402
from molvae.sampling.guided import parse_condition, sample_where  # noqa: E402

SETTINGS = [(20, 0.5), (5, 0.5), (50, 0.5), (20, 0.0), (20, 0.25), (20, 1.0)]  # (oversample, local_scale)
FCD_SLACK = 1.10


def choose(rows: list[dict]) -> dict:
    """The chosen setting: most hits per 1,000 decoded among those within FCD_SLACK of the best mean FCD."""
    by = {}
    for r in rows:
        by.setdefault((r["oversample"], r["local_scale"]), []).append(r)
    means = {k: (float(np.mean([r["hits_per_1000"] for r in v])), float(np.mean([r["fcd"] for r in v])))
             for k, v in by.items()}
    best_fcd = min(f for _, f in means.values())
    ok = {k: v for k, v in means.items() if v[1] <= FCD_SLACK * best_fcd}
    k = max(ok, key=lambda k: ok[k][0])
    return {"oversample": k[0], "local_scale": k[1], "mean_hits_per_1000": round(ok[k][0], 1),
            "mean_fcd": round(ok[k][1], 3), "means": {f"{a},{b}": [round(h, 1), round(f, 3)]
                                                       for (a, b), (h, f) in means.items()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="moses")
    ap.add_argument("--hits", type=int, default=100)
    ap.add_argument("--table-only", action="store_true", help="rewrite the .md from the .json")
    a = ap.parse_args()
    if a.table_only:
        out = Path(__file__).resolve().parent / "results" / f"guided_choice_{a.model}"
        out.with_suffix(".md").write_text(markdown(json.loads(out.with_suffix(".json").read_text())))
        return
    vae = MolVAE.load(a.model)
    val = [m for m in map(chem.to_mol, validation_smiles(skip=100_000)) if m]
    rows = []
    for where in CONDITIONS:
        conds = [parse_condition(w) for w in where]
        ref = [chem.mol_to_smiles(m) for m in val if meets(m, conds)]
        ref_stats = metrics.Reference.from_smiles(ref)
        for oversample, scale in SETTINGS:
            t = time.time()
            df = sample_where(vae, a.hits, where, seed=0, oversample=oversample, local_scale=scale)
            hits = df["smiles"].tolist()
            rows.append({"condition": " and ".join(where), "oversample": oversample, "local_scale": scale,
                         "hits": len(hits), "decoded": df.attrs["decoded"],
                         "hits_per_1000": round(1000 * len(hits) / df.attrs["decoded"], 1),
                         "fcd": round(metrics.fcd(hits, ref_stats), 3) if len(hits) > 1 else float("nan"),
                         "validation_molecules_meeting_it": len(ref), "seconds": round(time.time() - t, 1)})
            print(rows[-1], flush=True)
    res = {"model": a.model, "hits": a.hits, "reference": f"validation ({ROWS:,} training-file molecules)",
           "rows": rows, "chosen": choose(rows), **record({a.model: vae})}
    save(f"guided_choice_{a.model}", res, markdown(res))


def markdown(res: dict) -> str:
    lines = [f"# Guided sampling settings chosen on validation ({res['model']}, {res['hits']} hits a run)", "",
             "| condition | oversample | local scale | hits / 1,000 decoded | FCD vs validation molecules meeting it |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['condition']} | {r['oversample']} | {r['local_scale']} | {r['hits_per_1000']} | {r['fcd']} |"
              for r in res["rows"]]
    lines += ["", "Means over the three conditions:", "", "| oversample | local scale | mean hits / 1,000 decoded |"
              " mean FCD |", "|---|---|---|---|"]
    lines += [f"| {k.split(',')[0]} | {k.split(',')[1]} | {h} | {f} |" for k, (h, f) in res["chosen"]["means"].items()]
    c = res["chosen"]
    lines += ["", f"Chosen (most hits per 1,000 decoded within {FCD_SLACK - 1:.0%} of the best mean FCD):"
              f" oversample {c['oversample']}, local scale {c['local_scale']} (mean {c['mean_hits_per_1000']} hits"
              f" per 1,000 decoded, mean FCD {c['mean_fcd']}).", "", markdown_line(res)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
