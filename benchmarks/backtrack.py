"""What mending rejected decodes by backtracking (molvae.repair) does to prior samples, against drawing again
(relaxed, no backtracking) and against SELFIES's own rules (strict): the same latents for every setting.

    python benchmarks/backtrack.py [--model DIR] [-n 5000] [--rounds 0,1,3,6,10] [--name backtrack]

Each setting samples n latents from the model's learned prior (seed 0) and decodes them greedily, keeping every
draw (keep_invalid); validity is the share of draws RDKit accepts, as MOSES counts it, and the other metrics
(molvae.metrics.evaluate, novelty against the model's training set) are over the valid ones. FCD from 5,000
samples reads higher than from 30,000: compare within the table. Writes benchmarks/results/<name>.json (with
the provenance fields of benchmarks/provenance.py) and <name>.md.
"""
import argparse
import json
import time
from pathlib import Path

from provenance import markdown_line, record

ROOT = Path(__file__).resolve().parent.parent
KEYS = ("valid", "fcd", "snn", "filters", "novelty", "intdiv1", "unique@1000")


def measure(vae, n: int, relaxed: bool, rounds: int, train) -> dict:
    from molvae import metrics

    t = time.time()
    df = vae.sample(n, seed=0, keep_invalid=True, relaxed=relaxed, backtrack=rounds if relaxed else 0,
                    prior="learned", greedy=True)
    secs = time.time() - t
    res = metrics.evaluate(df["smiles"].where(df["valid"], "").tolist(), train=train)
    row = {k: res.get(k) for k in KEYS}
    mended = df.attrs["mended"]
    row.update(setting="strict" if not relaxed else f"relaxed, backtrack {rounds}", relaxed=relaxed,
               backtrack=rounds if relaxed else 0, seconds=round(secs, 1),
               backtracked=mended.get("backtracked", 0) / n, strict_read=mended.get("read under strict rules", 0) / n)
    return row


def markdown(res: dict) -> str:
    lines = [f"| decoding (n={res['n']:,} draws) | valid | mended by backtracking | read under strict rules | "
             "FCD/Test | SNN/Test | Filters | novelty | IntDiv | seconds |", "|---" * 10 + "|"]
    for r in res["rows"]:
        lines.append(f"| {r['setting']} | {r['valid']:.4f} | {r['backtracked']:.3f} | {r['strict_read']:.3f} |"
                     f" {r['fcd']:.3f} | {r['snn']:.4f} | {r['filters']:.4f} | {r['novelty']:.4f} |"
                     f" {r['intdiv1']:.4f} | {r['seconds']} |")
    return "\n".join(lines + ["", f"Model: {res['model']}; learned prior, greedy decoding, seed 0; the metrics are"
                              " over the valid draws.", "", markdown_line(res)]) + "\n"


def main():
    from molvae.api import MolVAE
    from molvae.checkpoint import load_training_set

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--rounds", default="0,1,3,6,10", help="backtracking rounds to compare (0: draw again)")
    ap.add_argument("--name", default="backtrack")
    args = ap.parse_args()
    vae = MolVAE.load(args.model)
    train = load_training_set(vae.path)
    res = {"n": args.n, "model": args.model or "default", "rows": []}
    prov = record({args.model or "default": vae})
    settings = [(False, 0)] + [(True, int(r)) for r in args.rounds.split(",")]
    for relaxed, rounds in settings:
        res["rows"].append(measure(vae, args.n, relaxed, rounds, train))
        print(res["rows"][-1], flush=True)
    res.update(prov)
    out = ROOT / "benchmarks" / "results"
    (out / f"{args.name}.json").write_text(json.dumps(res, indent=2, default=float) + "\n")
    text = markdown(res)
    (out / f"{args.name}.md").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
