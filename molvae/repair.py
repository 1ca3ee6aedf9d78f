"""Relaxed decoding that always ends in a molecule: backtracking to the token where the decoder went wrong.

Under relaxed SELFIES rules (tokens.relaxed_constraints) a decoder mistake becomes an over-bonded atom that RDKit
rejects, instead of being silently repaired by SELFIES into an unusual molecule. Rejecting and drawing again
keeps samples realistic, but then not every latent gives a molecule. Here a rejected decode is mended by the
decoder itself: the shortest rejected prefix of its tokens ends at the token that broke the molecule; that
token is forbidden at that position, the tokens before it are kept, and the decoder carries on greedily from
the same latent with its next choice (a lazy form of the semantic masks of SD-VAE, Dai et al., ICLR 2018).
After ``rounds`` tries the first decode is read under SELFIES's own rules, which accept every string, so every
latent gives a molecule.
"""
from __future__ import annotations

import torch

from .tokens import EOS_ID, smiles_of, split


def first_bad_token(tokens: list[str]) -> int:
    """Index of the token that ends the shortest prefix rejected under relaxed rules (binary search: a prefix
    of a rejected molecule stays rejected once an atom is over-bonded). The whole string must be rejected."""
    ok, bad = 0, len(tokens)
    while bad - ok > 1:
        mid = (ok + bad) // 2
        if smiles_of(["".join(tokens[:mid])], relaxed=True)[0] is None:
            bad = mid
        else:
            ok = mid
    return bad - 1


def _ids(row: list[int]) -> list[int]:
    out = []
    for i in row:
        if i == EOS_ID:
            break
        out.append(int(i))
    return out


def mend(vae, z: torch.Tensor, selfies: list[str], loglik, rounds: int) -> list[tuple[str, str | None, float, int]]:
    """For latents z whose greedy relaxed decodes ``selfies`` (log-likelihoods ``loglik``) RDKit rejected:
    (selfies, smiles, loglik, tries) each; tries = 0 where ``rounds`` backtracking steps found nothing and the
    first decode read under SELFIES's own rules is used (smiles None only for an empty decode)."""
    vocab, n = vae.vocab, len(selfies)
    cur = [[vocab.index[t] for t in split(s)] for s in selfies]
    length = vae.model.cfg.max_len
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
        ids, ll = vae.model.generate(z[todo].to(vae.device), greedy=True, forced=forced.to(vae.device),
                                     banned=banned[todo].to(vae.device))
        rows = [_ids(row) for row in ids.cpu().tolist()]
        strings = [vocab.decode_ids(row) for row in rows]
        smiles = smiles_of(strings, relaxed=True)
        left = []
        for j, i in enumerate(todo):
            cur[i] = rows[j]
            if smiles[j] is not None:
                out[i] = (strings[j], smiles[j], float(ll[j]), r)
            elif cur[i]:
                left.append(i)
        todo = left
    fallback = iter(smiles_of([s for s, o in zip(selfies, out) if o is None]))
    return [o or (s, next(fallback), float(ll), 0) for s, ll, o in zip(selfies, loglik, out)]
