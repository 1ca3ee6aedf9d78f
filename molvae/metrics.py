"""Generation metrics. Definitions follow MOSES (Polykovskiy et al. 2020); FCD (Preuer et al. 2018) uses the
`fcd` package, whose ChemNet weights ship in its wheel. Reference statistics of the MOSES test splits ship in
molvae/reference so evaluation does not re-run ChemNet over 176k molecules."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from . import chem

REFERENCE_DIR = Path(__file__).parent / "reference"


def canonical_valid(smiles: Sequence) -> list[str]:
    """Canonical SMILES of the valid inputs (invalid ones dropped)."""
    out = []
    for s in smiles:
        c = chem.canonical(s)
        if c:
            out.append(c)
    return out


def validity(smiles: Sequence) -> float:
    return len(canonical_valid(smiles)) / max(1, len(smiles))


def unique_at(valid_canonical: Sequence[str], k: int) -> float:
    head = list(valid_canonical)[:k]
    return len(set(head)) / max(1, len(head))


def novelty(valid_canonical: Sequence[str], train_canonical: set[str]) -> float:
    """Share of unique valid molecules not in the training set (MOSES)."""
    uniq = set(valid_canonical)
    return len(uniq - train_canonical) / max(1, len(uniq))


def heavy_atoms_and_aromatic_share(valid_canonical: Sequence[str]) -> tuple[float, float]:
    mols = [chem.to_mol(s) for s in valid_canonical]
    mols = [m for m in mols if m is not None]
    if not mols:
        return float("nan"), float("nan")
    return (float(np.mean([m.GetNumHeavyAtoms() for m in mols])),
            float(np.mean([chem.has_aromatic_ring(m) for m in mols])))


def chemnet_activations(smiles: Sequence[str], batch_size: int = 256) -> np.ndarray:
    import torch
    from fcd import get_predictions, load_ref_model

    with torch.no_grad():
        return get_predictions(load_ref_model(), list(smiles), batch_size=batch_size, device="cpu")


def fcd_stats(smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    act = chemnet_activations(smiles).astype(np.float64)
    return act.mean(0), np.cov(act.T)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    from scipy import linalg

    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        eps = np.eye(sigma1.shape[0]) * 1e-6
        covmean = linalg.sqrtm((sigma1 + eps).dot(sigma2 + eps))
    covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def save_stats(path, mu: np.ndarray, sigma: np.ndarray, n: int) -> None:
    np.savez_compressed(path, mu=mu.astype(np.float32), sigma=sigma.astype(np.float32), n=np.array(n))


def load_stats(name_or_path) -> tuple[np.ndarray, np.ndarray]:
    p = Path(name_or_path)
    if not p.exists():
        p = REFERENCE_DIR / f"fcd_{name_or_path}.npz"
    z = np.load(p, allow_pickle=False)
    return z["mu"].astype(np.float64), z["sigma"].astype(np.float64)


def fcd(generated: Sequence[str], reference="moses_test") -> float:
    """FCD of the generated molecules against shipped reference statistics (or a list of SMILES)."""
    mu, sigma = fcd_stats(generated)
    if isinstance(reference, str):
        mu_r, sigma_r = load_stats(reference)
    else:
        mu_r, sigma_r = fcd_stats(reference)
    return frechet_distance(mu, sigma, mu_r, sigma_r)
