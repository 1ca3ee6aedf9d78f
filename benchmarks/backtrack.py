"""Can the decoder mend its own rejected decodes? An experiment, not a feature: measured and not adopted.

    python benchmarks/backtrack.py [--model DIR] [-n 5000] [--rounds 1,3,10] [--name backtrack]

Under relaxed SELFIES rules (molvae.model.tokens.selfies_rules) a decoder mistake becomes an over-bonded atom that
RDKit rejects; `molvae sample` then draws a new latent, so about one draw in seven gives no molecule and MOSES's
validity is 0.85. Backtracking mends a rejected decode instead: the shortest rejected prefix of its tokens ends
at the token that broke the molecule; that token is forbidden there, the tokens before it are kept, and the
decoder carries on greedily from the same latent (VAE.generate's forced/banned arguments; a lazy form of the
semantic masks of SD-VAE, Dai et al., ICLR 2018). After K tries the first decode is read under SELFIES's own
rules. Every latent then gives a molecule: the question is whether those molecules are as realistic as the ones
relaxed decoding accepts.

Each setting decodes the same n latents from the learned prior (seed 0, greedy), keeping every draw: strict
rules; relaxed rules without mending (the invalid draws left out, as MOSES does); relaxed with K rounds of
backtracking. Metrics (molvae.metrics.evaluate, novelty against the model's training set) are over the valid
draws; FCD from 5,000 samples reads higher than from 30,000. Writes benchmarks/results/<name>.json (with the
provenance fields of benchmarks/provenance.py) and <name>.md.
"""
import argparse
import time

import torch
from provenance import markdown_line, record, save

KEYS = ("valid", "fcd", "snn", "filters", "novelty", "intdiv1")


def first_bad_token(tokens: list[str]) -> int:
    """Index of the token ending the shortest prefix rejected under relaxed rules (binary search; the whole
    string must be rejected)."""
    from molvae.model.tokens import smiles_of

    ok, bad = 0, len(tokens)
    while bad - ok > 1:
        mid = (ok + bad) // 2
        if smiles_of(["".join(tokens[:mid])], relaxed=True)[0] is None:
            bad = mid
        else:
            ok = mid
    return bad - 1


def mend(vae, z: torch.Tensor, selfies: list[str], rounds: int) -> list[tuple[str | None, int]]:
    """(smiles, round it was accepted in; 0: read under strict rules) for rejected greedy decodes ``selfies``."""
    from molvae.model.tokens import EOS_ID, smiles_of, split

    vocab, n, length = vae.vocab, len(selfies), vae.model.cfg.max_len
    cur = [[vocab.index[t] for t in split(s)] for s in selfies]
    banned = torch.zeros(n, length, len(vocab), dtype=torch.bool)
    out: list = [None] * n
    todo = [i for i in range(n) if cur[i]]
    for r in range(1, rounds + 1):
        if not todo:
            break
        forced = torch.full((len(todo), length), -1, dtype=torch.long)
        for j, i in enumerate(todo):
            k = first_bad_token([vocab.tokens[t] for t in cur[i]])
            banned[i, k, cur[i][k]] = True
            forced[j, :k] = torch.tensor(cur[i][:k], dtype=torch.long)
        ids, _ = vae.model.generate(z[todo], greedy=True, forced=forced, banned=banned[todo])
        rows = [row[: row.index(EOS_ID)] if EOS_ID in row else row for row in ids.tolist()]
        smiles = smiles_of([vocab.decode_ids(row) for row in rows], relaxed=True)
        left = []
        for j, i in enumerate(todo):
            cur[i] = rows[j]
            if smiles[j] is not None:
                out[i] = (smiles[j], r)
            elif cur[i]:
                left.append(i)
        todo = left
    strict = iter(smiles_of([s for s, o in zip(selfies, out) if o is None]))
    return [o or (next(strict), 0) for o in out]


def measure(vae, z, selfies, relaxed: bool, rounds: int, train) -> dict:
    from molvae import metrics
    from molvae.model.tokens import smiles_of

    t = time.time()
    smiles = smiles_of(selfies, relaxed=relaxed)
    bad = [i for i, s in enumerate(smiles) if s is None]
    tries = []
    if rounds and bad:
        for i, (smi, r) in zip(bad, mend(vae, z[bad], [selfies[i] for i in bad], rounds)):
            smiles[i] = smi
            tries.append(r)
    secs = time.time() - t
    res = metrics.evaluate([s or "" for s in smiles], train=train)
    n = len(selfies)
    return {**{k: res.get(k) for k in KEYS}, "relaxed": relaxed, "backtrack": rounds, "seconds": round(secs, 1),
            "setting": "strict" if not relaxed else f"relaxed, backtrack {rounds}" if rounds else "relaxed",
            "backtracked": sum(r > 0 for r in tries) / n, "strict_read": sum(r == 0 for r in tries) / n}


def markdown(res: dict) -> str:
    lines = [f"| decoding (n={res['n']:,} latents) | valid | mended by backtracking | read under strict rules |"
             " FCD/Test | SNN/Test | Filters | novelty | IntDiv | seconds (SMILES + mending) |", "|---" * 10 + "|"]
    for r in res["rows"]:
        lines.append(f"| {r['setting']} | {r['valid']:.4f} | {r['backtracked']:.3f} | {r['strict_read']:.3f} |"
                     f" {r['fcd']:.3f} | {r['snn']:.4f} | {r['filters']:.4f} | {r['novelty']:.4f} |"
                     f" {r['intdiv1']:.4f} | {r['seconds']} |")
    return "\n".join(lines + ["", f"Model: {res['model']}; the same latents from the learned prior for every row"
                              " (seed 0), greedy decoding; metrics over the valid draws.", "",
                              markdown_line(res)]) + "\n"


def main():
    from molvae.api import MolVAE
    from molvae.model.checkpoint import load_training_set

    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="moses")
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--rounds", default="1,3,10", help="backtracking rounds to compare")
    ap.add_argument("--name", default="backtrack")
    args = ap.parse_args()
    vae = MolVAE.load(args.model)
    train = load_training_set(vae.path)
    res = {"n": args.n, "model": args.model, "rows": []}
    prov = record({args.model: vae})
    z = vae.prior_sampler("learned")(args.n, vae._generator(0))
    selfies, _ = vae.decode_selfies(z, greedy=True)
    for relaxed, rounds in [(False, 0), (True, 0)] + [(True, int(r)) for r in args.rounds.split(",")]:
        res["rows"].append(measure(vae, z, selfies, relaxed, rounds, train))
        print(res["rows"][-1], flush=True)
    res.update(prov)
    save(args.name, res, markdown(res))


if __name__ == "__main__":
    main()
