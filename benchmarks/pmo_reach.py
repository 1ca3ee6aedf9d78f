"""Where the model, not the search, limits a PMO task: can a model (the bundled MOSES model unless told)
produce each task's target molecule at all?

For every molecule a PMO similarity or rediscovery term points at (molvae.objectives.tasks), its molecular weight (MOSES
keeps 250-350 Da), whether the model can encode it (and why not), whether mu decodes back to it (stereo
removed where the model has no stereo tokens), whether inversion (MolVAE.invert) finds a latent that decodes to
it, and the best score molvae's runs reached on the task (benchmarks/results/pmo/, 10,000 calls, any method and
seed; 1.0 for a rediscovery task means the target was found).

    python benchmarks/pmo_reach.py [--model moses] [--name pmo_reach]

Writes benchmarks/results/NAME.json and .md.
"""
import argparse
import glob
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pmo import BASE_MODEL, file_spec  # noqa: E402
from provenance import markdown_line, record  # noqa: E402

from rdkit.Chem import Descriptors  # noqa: E402

from molvae import MolVAE, chem  # noqa: E402
from molvae.objectives import tasks  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {  # task: the molecule its similarity term points at
    "celecoxib_rediscovery": tasks.CELECOXIB, "troglitazone_rediscovery": tasks.TROGLITAZONE,
    "thiothixene_rediscovery": tasks.THIOTHIXENE, "albuterol_similarity": tasks.ALBUTEROL,
    "mestranol_similarity": tasks.MESTRANOL, "median1 (camphor)": tasks.CAMPHOR, "median1 (menthol)": tasks.MENTHOL,
    "median2 (tadalafil)": tasks.TADALAFIL, "median2 (sildenafil)": tasks.SILDENAFIL,
    "osimertinib_mpo": tasks.OSIMERTINIB, "fexofenadine_mpo": tasks.FEXOFENADINE,
    "ranolazine_mpo": tasks.RANOLAZINE, "perindopril_mpo": tasks.PERINDOPRIL, "amlodipine_mpo": tasks.AMLODIPINE,
    "sitagliptin_mpo": tasks.SITAGLIPTIN, "zaleplon_mpo": tasks.ZALEPLON, "deco_hop / scaffold_hop": tasks.HOP_START,
}


def best_found(task: str, model: str) -> float | None:
    """The best score any 10,000-call run on ``model`` reached on the task (runs on another model say
    METHOD@MODEL in their file name, with a path's slashes as dashes: benchmarks/pmo.py)."""
    name = task.split(" ")[0]
    runs = glob.glob(str(ROOT / "benchmarks" / "results" / "pmo" / f"{name}__*__b10000__s*.json"))
    label = file_spec(model)
    ours = [p for p in runs if (Path(p).name.split("__")[1].partition("@")[2] or BASE_MODEL) == label]
    tops = [json.loads(Path(p).read_text())["top10"][0][1] for p in ours]
    return max(tops) if tops else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=BASE_MODEL)
    ap.add_argument("--name", default="pmo_reach", help="results file name (benchmarks/results/NAME.json, .md)")
    args = ap.parse_args()
    vae = MolVAE.load(args.model)
    rec = vae.reconstruct(list(TARGETS.values()))
    rows = []
    for (task, smi), (_, r) in zip(TARGETS.items(), rec.iterrows()):
        t = time.time()
        inverted = bool(vae.invert(smi)[1]) if not r["error"] else False
        rows.append({"task": task, "target": smi, "mw": round(Descriptors.MolWt(chem.to_mol(smi)), 1),
                     "encodable": not r["error"], "why_not": r["error"], "stereo_removed": bool(r["stereo_removed"]),
                     "mu_decodes_back": bool(r["recon_exact"]), "inversion_decodes_back": inverted,
                     "invert_seconds": round(time.time() - t, 1), "best_score_found": best_found(task, args.model)})
        print(rows[-1], flush=True)
    res = {"model": args.model, "rows": rows, **record({args.model: vae})}
    out = ROOT / "benchmarks" / "results" / args.name
    out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    lines = [f"# Can the {args.model} model produce each PMO task's target molecule?", "",
             "| task | target MW | encodable | mu decodes back | inversion decodes back | best score found (10k calls) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        enc = "yes" + (" (stereo removed)" if r["stereo_removed"] else "") if r["encodable"] else f"no: {r['why_not']}"
        best = "-" if r["best_score_found"] is None else f"{r['best_score_found']:.3f}"
        lines.append(f"| {r['task']} | {r['mw']} | {enc} | {'yes' if r['mu_decodes_back'] else 'no'} |"
                     f" {'yes' if r['inversion_decodes_back'] else 'no'} | {best} |")
    out.with_suffix(".md").write_text("\n".join(lines) + "\n\n" + markdown_line(res) + "\n")


if __name__ == "__main__":
    main()
