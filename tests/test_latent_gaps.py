"""benchmarks/latent_gaps.py's RealNVP flow is an invertible, normalized density that learns what it is fitted to."""
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import latent_gaps  # noqa: E402


def test_the_flow_inverts_its_couplings_and_starts_as_the_standardizing_gaussian():
    torch.manual_seed(0)
    mean, std = torch.tensor([1.0, -2.0, 0.5, 3.0]), torch.tensor([0.5, 2.0, 1.0, 0.1])
    flow = latent_gaps.Flow(mean, std, layers=4, hidden=16)
    z = torch.randn(50, 4) * std + mean
    gauss = torch.distributions.Normal(mean, std).log_prob(z).sum(-1)
    assert torch.allclose(flow.log_prob(z), gauss, atol=1e-5)  # zero-initialized couplings are the identity
    for c in flow.layers:
        torch.nn.init.normal_(c.net[-1].weight, std=0.3)
    x = (z - mean) / std
    y = x
    for c in flow.layers:
        y, _ = c(y)
    for c in reversed(flow.layers):
        y = c.inverse(y)
    assert torch.allclose(y, x, atol=1e-5) and not torch.allclose(flow.log_prob(z), gauss, atol=1e-3)


@pytest.mark.slow  # fits a flow (about 5 s alone, a minute beside training)
def test_a_fitted_flow_learns_a_correlated_gaussian_it_was_not_given():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 1)).astype(np.float32)
    mu = np.hstack([a, 0.9 * a + 0.1 * rng.standard_normal((4000, 1)).astype(np.float32)])  # nearly on a line
    flow = latent_gaps.fit_flow(mu, np.full_like(mu, 0.05), epochs=40, log=lambda m: None)
    cov = np.cov((mu + 0.05 * rng.standard_normal(mu.shape)).T)
    entropy = 0.5 * math.log(np.linalg.det(2 * math.pi * math.e * cov))  # the true NLL per point, in nats
    with torch.no_grad():
        nll = -flow.log_prob(torch.tensor(mu[:1000] + 0.05 * rng.standard_normal((1000, 2)).astype(np.float32)))
    independent = 0.5 * math.log(np.prod(2 * math.pi * math.e * np.diag(cov)))  # what ignoring the correlation costs
    assert float(nll.mean()) < entropy + 0.3 < independent
    s = flow.sample(2000, 1.0, torch.Generator().manual_seed(1)).numpy()
    assert abs(np.corrcoef(s.T)[0, 1] - np.corrcoef(mu.T)[0, 1]) < 0.05

