import torch

from molvae.model import EOS, VAE, ModelConfig, active_units, dims_above_floor, kl_loss, kl_per_dim
from molvae.model.tokens import pad_batch


def small(**kw):
    torch.manual_seed(0)
    return VAE(ModelConfig(vocab_size=12, max_len=20, emb_dim=8, enc_hidden=16, latent_dim=4, dec_hidden=24, **kw)).eval()


def test_encoding_ignores_padding():
    """A molecule's mu must not depend on how long the other molecules of its batch are."""
    for kw in ({}, {"bidirectional": False}, {"enc_layers": 2}):
        m = small(**kw)
        seqs = [[3, 4, 5, EOS], [6, 7, 8, 9, 10, 11, 3, EOS], [5, EOS]]
        x, lengths = pad_batch(seqs)
        mu_batch, lv_batch = m.encode(torch.from_numpy(x), torch.from_numpy(lengths))
        for i, s in enumerate(seqs):
            xi, li = pad_batch([s])
            mu_i, lv_i = m.encode(torch.from_numpy(xi), torch.from_numpy(li))
            assert torch.allclose(mu_batch[i], mu_i[0], atol=1e-5), kw
            assert torch.allclose(lv_batch[i], lv_i[0], atol=1e-5), kw


def test_bidirectional_encoder_reads_both_ends():
    m = small()
    x, lengths = pad_batch([[3, 4, 5, 6, EOS], [7, 4, 5, 6, EOS]])
    mu, _ = m.encode(torch.from_numpy(x), torch.from_numpy(lengths))
    assert not torch.allclose(mu[0], mu[1])


def test_forward_shapes_and_generation_stops():
    m = small()
    x, lengths = pad_batch([[3, 4, EOS], [5, 6, 7, 8, EOS]])
    nll, kl, mu = m(torch.from_numpy(x), torch.from_numpy(lengths))
    assert nll.shape == (2,) and kl.shape == (2, 4) and mu.shape == (2, 4) and (nll > 0).all()
    z = torch.randn(7, 4)
    ids, ll = m.generate(z, greedy=True)
    assert ids.shape == (7, 20) and (ll <= 0).all()
    for row in ids.tolist():  # every sequence ends with <eos>, nothing but padding after it
        end = row.index(EOS)
        assert all(t == 0 for t in row[end + 1:]) and all(t > EOS for t in row[:end])
    again, _ = m.generate(z, greedy=True)
    assert torch.equal(ids, again)
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(m.generate(z, generator=g1)[0], m.generate(z, generator=g2)[0])


def test_generation_writes_forced_tokens_and_never_a_banned_one():
    """generate(forced=, banned=): what benchmarks/backtrack.py uses to make the decoder carry on from a prefix
    with one choice forbidden."""
    m = small()
    z = torch.randn(6, 4)
    ids, _ = m.generate(z, greedy=True)
    banned = torch.zeros(6, 20, 12, dtype=torch.bool)
    banned[torch.arange(6), 0, ids[:, 0]] = True
    other, _ = m.generate(z, greedy=True, banned=banned)
    assert (other[:, 0] != ids[:, 0]).all()
    forced = torch.full((6, 20), -1, dtype=torch.long)
    forced[:, :4] = torch.tensor([3, 4, 5, 6])
    pushed, ll = m.generate(z, greedy=True, forced=forced)
    assert (pushed[:, :4] == torch.tensor([3, 4, 5, 6])).all() and (ll < 0).all()


def test_free_bits_and_active_units():
    kl = torch.tensor([[0.01, 2.0, 0.5], [0.03, 4.0, 0.5]])
    assert abs(kl_loss(kl, 0.0).item() - (0.02 + 3.0 + 0.5)) < 1e-6
    assert abs(kl_loss(kl, 1.0).item() - (1.0 + 3.0 + 1.0)) < 1e-6
    mu = torch.stack([torch.linspace(-1, 1, 50), torch.full((50,), 0.3), 0.01 * torch.randn(50)], 1)
    assert active_units(mu) == 1


def test_dimensions_at_the_free_bits_floor_are_active_but_not_above_it():
    # three dimensions vary across molecules (all pass the variance test); only the first carries much KL
    gen = torch.Generator().manual_seed(0)
    mu = torch.stack([2.0 * torch.randn(500, generator=gen), 0.4 * torch.randn(500, generator=gen),
                      0.45 * torch.randn(500, generator=gen)], 1)
    logvar = torch.stack([torch.full((500,), -3.0), torch.full((500,), -0.05), torch.full((500,), -0.1)], 1)
    kl = kl_per_dim(mu, logvar).mean(0)
    assert active_units(mu) == 3
    assert kl[0] > 1.0 and (kl[1:] < 0.2).all()
    assert dims_above_floor(kl, free_bits=0.1) == 1
    assert dims_above_floor(kl.tolist(), free_bits=0.01) == 3
    assert dims_above_floor([0.2, 0.2001], free_bits=0.1) == 1  # strictly more than twice the floor


def test_batch_loss_is_the_nll_plus_the_weighted_free_bits_kl_plus_the_weighted_head_loss():
    from molvae.model import batch_loss, property_loss

    m = VAE(ModelConfig(vocab_size=12, max_len=20, emb_dim=8, enc_hidden=16, latent_dim=4, dec_hidden=24,
                        properties=("qed", "logp"))).eval()
    x = torch.tensor([[3, 4, 5, EOS, 0], [6, 7, EOS, 0, 0]])
    lengths = torch.tensor([4, 3])
    nll, kl, mu = m(x, lengths, sample=False)
    fwd = lambda x, lengths, props=False: m(x, lengths, sample=False, props=props)  # noqa: E731
    loss, rec, kl2 = batch_loss(fwd, x, lengths, None, 0.3, 0.5)
    assert torch.allclose(rec, nll.mean()) and torch.allclose(kl2, kl)
    assert torch.allclose(loss, nll.mean() + 0.3 * kl_loss(kl, 0.5))
    y = torch.tensor([[0.5, float("nan")], [-1.0, 2.0]])
    with_head, _, _ = batch_loss(fwd, x, lengths, y, 0.3, 0.5, property_weight=2.0)
    assert torch.allclose(with_head, loss + 2.0 * property_loss(m.predict_standardized(mu), y))
