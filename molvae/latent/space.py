"""Walking the latent space of a model: interpolation between two molecules (linear, slerp), exploring the
neighbourhood of one, 2-D maps. The functions take a loaded :class:`molvae.api.MolVAE`."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..chem import mol as chem
from ..errors import MolvaeError


def path(za: np.ndarray, zb: np.ndarray, steps: int, method: str = "linear") -> tuple[np.ndarray, np.ndarray]:
    """steps points from za to zb (both included): (t, z). slerp follows the great circle, which keeps the
    norm typical of N(0, I) samples instead of cutting through the low-norm middle (White 2016)."""
    if steps < 2:
        raise MolvaeError("steps must be at least 2")
    t = np.linspace(0.0, 1.0, steps)
    if method == "linear":
        return t, (1 - t)[:, None] * za[None] + t[:, None] * zb[None]
    if method != "slerp":
        raise MolvaeError(f"unknown interpolation method '{method}' (linear, slerp)")
    na, nb = np.linalg.norm(za), np.linalg.norm(zb)
    cos = np.clip(za @ zb / max(na * nb, 1e-12), -1.0, 1.0)
    omega = np.arccos(cos)
    if omega < 1e-6:
        return t, (1 - t)[:, None] * za[None] + t[:, None] * zb[None]
    w_a, w_b = np.sin((1 - t) * omega) / np.sin(omega), np.sin(t * omega) / np.sin(omega)
    return t, w_a[:, None] * za[None] + w_b[:, None] * zb[None]


def interpolation_table(t: np.ndarray, smiles: list, a: str, b: str) -> pd.DataFrame:
    df = pd.DataFrame({"step": np.arange(len(t)), "t": np.round(t, 4), "smiles": [s or "" for s in smiles],
                       "valid": [s is not None for s in smiles]})
    df["similarity_a"] = [round(chem.tanimoto(s, a), 4) for s in smiles]
    df["similarity_b"] = [round(chem.tanimoto(s, b), 4) for s in smiles]
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


def interpolate(vae, a, b, steps: int = 10, method: str = "linear") -> pd.DataFrame:
    """Greedy decodes along a path from mu(a) to mu(b): step, t, smiles, valid, similarity to a and b,
    same_as_previous. attrs: whether the path's ends reconstruct a and b."""
    za, ca = vae.encode_one(a, "A")
    zb, cb = vae.encode_one(b, "B")
    t, z = path(za.astype(np.float64), zb.astype(np.float64), steps, method)
    smiles = vae.decode(z.astype(np.float32), greedy=True)
    df = interpolation_table(t, smiles, ca, cb)
    df.attrs.update(a=ca, b=cb, reconstructs_a=smiles[0] == ca, reconstructs_b=smiles[-1] == cb)
    return df


def explore(vae, smiles, n: int = 20, radius: float = 1.0, seed: int = 0) -> pd.DataFrame:
    """n greedy decodes of random points within `radius` of mu(smiles), nearest first: smiles, valid,
    similarity (Tanimoto to the input), latent_distance, same_as_input."""
    if n <= 0 or radius <= 0:
        raise MolvaeError("n and radius must be positive")
    z0, canon = vae.encode_one(smiles, "the molecule")
    z = neighbour_latents(z0.astype(np.float64), n, radius, np.random.default_rng(seed))
    dist = np.linalg.norm(z - z0[None], axis=1)
    order = np.argsort(dist, kind="stable")
    z, dist = z[order], dist[order]
    dec = vae.decode(z.astype(np.float32), greedy=True)
    return pd.DataFrame({
        "smiles": [d or "" for d in dec], "valid": [d is not None for d in dec],
        "similarity": [round(chem.tanimoto(d, canon), 4) for d in dec],
        "latent_distance": np.round(dist, 4), "same_as_input": [d == canon for d in dec],
    })
