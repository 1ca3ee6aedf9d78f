"""Property-guided sampling against filtering molvae's default sampler and N(0, I), on three conditions of
increasing rarity.

For each condition: its frequency in (the first 20,000 molecules of) MOSES test; hits per 1,000 decoded
latents for `molvae sample --where ...` (the model's prior ranked by the property head; every decoded latent
counts, the last round's remainder included), for the same with `--local-scale 0.5` (also drawing near earlier
hits), and for two rejection baselines that decode every draw and keep what meets the condition: molvae's own
default sampler (learned prior, greedy decoding) and N(0, I) at T = 1; and of the guided hits: unique share,
novelty against the model's training set (also of the N(0, I) hits), IntDiv, and FCD against the MOSES test
molecules that meet the same condition (of both guided runs).

    python benchmarks/guided.py [--model moses] [--hits 300] [--rejection-draws 10000] [--novel]

Writes benchmarks/results/guided_<model>.json and .md (guided_<model>_novel with --novel: the guided runs discard
the model's training molecules, so they count as misses).
"""
import argparse
import json
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import markdown_line, record  # noqa: E402

from molvae import MolVAE, chem, metrics
from molvae.io import tables  # noqa: E402
from molvae.chem import properties  # noqa: E402
from molvae.model.checkpoint import load_training_set  # noqa: E402
from molvae.sampling.guided import parse_condition, sample_where  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NEAR = 0.5  # --local-scale of the second guided run
CONDITIONS = [["qed >= 0.9"], ["4 <= logp <= 5", "tpsa <= 60"], ["mw <= 280", "qed >= 0.85", "sa <= 2.5"]]


def fcd(hits: list[str], ref: list[str]) -> float | None:
    return round(metrics.fcd(hits, ref), 3) if len(hits) > 1 and len(ref) > 1 else None


def meets(mol, conds) -> bool:
    return all(c.holds(float(properties.PROPERTIES[c.name](mol))) for c in conds)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="moses")
    ap.add_argument("--hits", type=int, default=300)
    ap.add_argument("--rejection-draws", type=int, default=10000)
    ap.add_argument("--novel", action="store_true", help="guided runs discard the model's training molecules")
    args = ap.parse_args()
    vae = MolVAE.load(args.model)
    train = load_training_set(vae.path)
    test = [m for m in map(chem.to_mol, tables.read_smiles(ROOT / "data" / "moses_test.csv.gz")[:20000]) if m]
    rows = []
    for where in CONDITIONS:
        conds = [parse_condition(w) for w in where]
        ref = [chem.mol_to_smiles(m) for m in test if meets(m, conds)]
        t = time.time()
        guided = sample_where(vae, args.hits, where, seed=0, novel=args.novel)  # molvae sample --where's default
        guided_s = time.time() - t
        near = sample_where(vae, args.hits, where, seed=0, local_scale=NEAR, novel=args.novel)
        plain = sample_where(vae, 10**9, where, seed=0, prior="standard", oversample=1, greedy=False,
                             max_draws=args.rejection_draws, local_scale=0)
        default = sample_where(vae, 10**9, where, seed=0, oversample=1, max_draws=args.rejection_draws,
                               local_scale=0)  # molvae sample's own sampler (learned prior, greedy), filtered
        hits = guided["smiles"].tolist()
        fps = metrics.morgan_fps([chem.to_mol(s) for s in hits])
        row = {"condition": " and ".join(where), "frequency_in_moses_test": round(len(ref) / len(test), 4),
               "guided_hits": len(hits), "guided_draws": guided.attrs["drawn"],
               "guided_decoded": guided.attrs["decoded"],
               "guided_hits_per_1000": round(1000 * len(hits) / guided.attrs["decoded"], 1),
               "near_hits_per_1000": round(1000 * len(near) / near.attrs["decoded"], 1),
               "default_sampler_hits": default.attrs["hits"], "default_sampler_draws": default.attrs["drawn"],
               "default_sampler_hits_per_1000": round(1000 * default.attrs["hits"] / default.attrs["drawn"], 1),
               "near_from_neighbourhoods": near.attrs["from_neighbourhoods"],
               "rejection_novelty": round(metrics.novelty(plain["smiles"].tolist(), train), 4),
               "rejection_hits": plain.attrs["hits"], "rejection_draws": plain.attrs["drawn"],
               "rejection_hits_per_1000": round(1000 * plain.attrs["hits"] / plain.attrs["drawn"], 1),
               "unique": round(len(set(hits)) / max(1, len(hits)), 4),
               "novelty": round(metrics.novelty(hits, train), 4),
               "intdiv": round(metrics.internal_diversity(fps), 4) if len(hits) > 1 else None,
               "fcd_vs_test_meeting_it": fcd(hits, ref),
               "near_fcd_vs_test_meeting_it": fcd(near["smiles"].tolist(), ref),
               "reference_molecules": len(ref), "guided_seconds": round(guided_s, 1)}
        row["gain"] = round(row["guided_hits_per_1000"] / max(row["rejection_hits_per_1000"], 1e-9), 1) \
            if row["rejection_hits"] else None
        row["gain_over_default_sampler"] = round(row["guided_hits_per_1000"] / row["default_sampler_hits_per_1000"], 1) \
            if row["default_sampler_hits"] else None
        print(row, flush=True)
        rows.append(row)
    res = {"model": args.model, "novel": args.novel, "rows": rows, **record({args.model: vae})}
    out = ROOT / "benchmarks" / "results" / f"guided_{args.model}{'_novel' if args.novel else ''}"
    out.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
    lines = [f"# Guided sampling ({args.model}{', --novel' if args.novel else ''}): {args.hits} hits each,"
             f" against filtering {args.rejection_draws} draws of the default sampler (learned prior, greedy) and of"
             " N(0, I) at T = 1", "",
             "Hits per 1,000 decoded latents (guided: every latent decoded, the last round's remainder included).", "",
             f"| condition | in MOSES test | guided hits / 1,000 | with --local-scale {NEAR} | default sampler, filtered |"
             " gain over default | N(0, I), filtered | gain over N(0, I) | unique | novelty (N(0, I)'s) | IntDiv |"
             f" FCD vs test meeting it | FCD, --local-scale {NEAR} |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['condition']} | {r['frequency_in_moses_test']:.1%} | {r['guided_hits_per_1000']} |"
                     f" {r['near_hits_per_1000']} | {r['default_sampler_hits_per_1000']}"
                     f" ({r['default_sampler_hits']} hits) | {r['gain_over_default_sampler'] or 'n/a'} |"
                     f" {r['rejection_hits_per_1000']} ({r['rejection_hits']} hits) |"
                     f" {r['gain'] or 'n/a'} | {r['unique']} | {r['novelty']} ({r['rejection_novelty']}) |"
                     f" {r['intdiv']} | {r['fcd_vs_test_meeting_it']} | {r['near_fcd_vs_test_meeting_it']} |")
    lines += ["", markdown_line(res)]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
