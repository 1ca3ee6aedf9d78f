"""Backtracking mends relaxed decodes that RDKit rejects (molvae.repair), on the bundled default model."""
import numpy as np
import pytest
import torch

from molvae import repair, tokens
from molvae.api import MolVAE


@pytest.fixture(scope="module")
def vae():
    return MolVAE.load()


def test_the_first_bad_token_ends_the_shortest_rejected_prefix():
    toks = ["[C]", "[C]", "[=O]", "[C]", "[C]", "[N]"]  # the oxygen gets a third bond at the fourth token
    assert tokens.smiles_of(["".join(toks)], relaxed=True)[0] is None
    assert tokens.smiles_of(["".join(toks[:3])], relaxed=True)[0] == "CC=O"
    assert repair.first_bad_token(toks) == 3


def test_generate_writes_forced_tokens_and_never_chooses_a_banned_one(vae):
    z = vae.prior_sampler("learned")(16, vae._generator(1))
    ids, _ = vae.model.generate(z, greedy=True)
    length, size = vae.model.cfg.max_len, len(vae.vocab)
    banned = torch.zeros(16, length, size, dtype=torch.bool)
    banned[torch.arange(16), 2, ids[:, 2]] = True
    again, _ = vae.model.generate(z, greedy=True, banned=banned)
    assert (again[:, :2] == ids[:, :2]).all() and (again[:, 2] != ids[:, 2]).all()
    forced = torch.full((16, length), -1, dtype=torch.long)
    forced[:, :4] = ids.flip(0)[:, :4]  # another latent's first four tokens
    pushed, _ = vae.model.generate(z, greedy=True, forced=forced)
    assert (pushed[:, :4] == ids.flip(0)[:, :4]).all()


def test_backtracking_mends_every_rejected_draw_and_leaves_the_others(vae):
    plain = vae.sample(300, seed=0, keep_invalid=True, backtrack=0)
    mended = vae.sample(300, seed=0, keep_invalid=True)  # the default: greedy, relaxed, 3 rounds
    ok = plain["valid"].to_numpy()
    assert mended.attrs["backtrack"] == 3 and 0 < (~ok).sum() < 100 and mended["valid"].all()
    assert mended[ok].equals(plain[ok])
    counts = mended.attrs["mended"]
    assert counts["backtracked"] > 0 and sum(counts.values()) == (~ok).sum()
    fixed = 0
    for i in np.flatnonzero(~ok):
        before, after = plain["selfies"][i], mended["selfies"][i]
        relaxed = tokens.smiles_of([after], relaxed=True)[0]
        if after == before:  # no decode within 3 rounds was accepted: read under SELFIES's own rules
            assert relaxed is None and mended["smiles"][i] == tokens.smiles_of([before])[0]
        else:  # the decoder's own next choice, accepted under the relaxed rules
            fixed += 1
            assert mended["smiles"][i] == relaxed
    assert fixed == counts["backtracked"]


def test_backtracking_needs_greedy_relaxed_decoding(vae):
    with pytest.raises(ValueError, match="greedy and relaxed"):
        vae.sample(5, backtrack=2, relaxed=False)
    assert vae.sample(20, seed=0, relaxed=False).attrs["backtrack"] == 0
    assert vae.sample(20, seed=0, prior="standard").attrs["backtrack"] == 0  # tokens drawn: nothing to mend
