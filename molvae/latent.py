"""Walking the latent space: interpolation (linear, slerp), neighbourhoods of a molecule, 2-D maps."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import chem


def path(za: np.ndarray, zb: np.ndarray, steps: int, method: str = "linear") -> tuple[np.ndarray, np.ndarray]:
    """steps points from za to zb (both included): (t, z). slerp follows the great circle, which keeps the
    norm typical of N(0, I) samples instead of cutting through the low-norm middle (White 2016)."""
    if steps < 2:
        raise ValueError("steps must be at least 2")
    t = np.linspace(0.0, 1.0, steps)
    if method == "linear":
        return t, (1 - t)[:, None] * za[None] + t[:, None] * zb[None]
    if method != "slerp":
        raise ValueError(f"unknown interpolation method '{method}' (linear, slerp)")
    na, nb = np.linalg.norm(za), np.linalg.norm(zb)
    cos = np.clip(za @ zb / max(na * nb, 1e-12), -1.0, 1.0)
    omega = np.arccos(cos)
    if omega < 1e-6:
        return t, (1 - t)[:, None] * za[None] + t[:, None] * zb[None]
    w_a, w_b = np.sin((1 - t) * omega) / np.sin(omega), np.sin(t * omega) / np.sin(omega)
    return t, w_a[:, None] * za[None] + w_b[:, None] * zb[None]


def tanimoto(a: str | None, b: str | None) -> float:
    """Morgan radius 2, 2048 bits; NaN when either molecule is missing."""
    from rdkit import DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    ma, mb = chem.to_mol(a) if a else None, chem.to_mol(b) if b else None
    if ma is None or mb is None:
        return float("nan")
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    return float(DataStructs.TanimotoSimilarity(gen.GetFingerprint(ma), gen.GetFingerprint(mb)))


def interpolation_table(t: np.ndarray, smiles: list, a: str, b: str) -> pd.DataFrame:
    df = pd.DataFrame({"step": np.arange(len(t)), "t": np.round(t, 4), "smiles": [s or "" for s in smiles],
                       "valid": [s is not None for s in smiles]})
    df["similarity_a"] = [round(tanimoto(s, a), 4) for s in smiles]
    df["similarity_b"] = [round(tanimoto(s, b), 4) for s in smiles]
    df["same_as_previous"] = df["smiles"].eq(df["smiles"].shift()) & (df["step"] > 0)
    return df


def neighbour_latents(z: np.ndarray, n: int, radius: float, rng: np.random.Generator) -> np.ndarray:
    """n points around z: random directions, distances uniform in (0, radius]."""
    d = rng.standard_normal((n, z.shape[0]))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return z[None] + d * rng.uniform(0, radius, size=(n, 1))


def pca_2d(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project rows onto the first two principal components; returns (coordinates, explained variance ratio)."""
    xc = x - x.mean(0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    var = s**2 / max(1, (s**2).sum())
    return xc @ vt[:2].T, var[:2]
