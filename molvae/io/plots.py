"""Pictures a person can open: molecule grids (RDKit), training curves and latent maps (matplotlib)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..chem import mol as chem
from ..errors import MolvaeError


def check_png(path) -> Path:
    """The path of a PNG to write; ValueError (one line) when it is not .png or its directory is missing."""
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise MolvaeError(f"image path must end in .png: {p}")
    if not p.parent.is_dir():
        raise MolvaeError(f"output directory does not exist: {p.parent}")
    return p


def molecule_grid(smiles: Sequence[str], legends: Sequence[str], path, per_row: int = 5,
                  size: int = 250) -> Path:
    """A PNG grid of 2-D depictions; an invalid or empty SMILES gets an empty cell with its legend."""
    from rdkit import Chem
    from rdkit.Chem.Draw import rdMolDraw2D

    p = check_png(path)
    mols = [chem.to_mol(s) if s else None for s in smiles]
    mols = [m if m is not None else Chem.Mol() for m in mols]
    if not mols:
        raise MolvaeError("no molecules to draw")
    per_row = max(1, min(per_row, len(mols)))
    rows = -(-len(mols) // per_row)
    drawer = rdMolDraw2D.MolDraw2DCairo(per_row * size, rows * size, size, size)
    drawer.DrawMolecules(mols, legends=[str(x)[:40] for x in legends])
    drawer.FinishDrawing()
    p.write_bytes(drawer.GetDrawingText())
    return p


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def training_curves(rows: list[dict], path) -> Path:
    """Validation reconstruction NLL, KL, active units beside the dimensions whose KL is above twice the
    free-bits floor, and reconstruction accuracy by epoch, from a run's
    per-epoch metrics (molvae.train.read_metrics)."""
    p = check_png(path)
    plt = _plt()
    ep = [r["epoch"] for r in rows]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.4))
    for ax, key, title in zip(axes, ["val_nll", "val_kl", "active_units", "val_recon_exact"],
                              ["reconstruction NLL (nats)", "KL (nats)", "latent dimensions", "exact reconstruction"]):
        ax.plot(ep, [r.get(key, np.nan) for r in rows], marker="o", label=key.replace("_", " "))
        ax.set_title(title)
        ax.set_xlabel("epoch")
    axes[2].plot(ep, [r.get("kl_above_floor", np.nan) for r in rows], marker="o", label="KL > 2x free bits")
    axes[2].legend()
    fig.tight_layout()
    fig.savefig(p, dpi=100)
    plt.close(fig)
    return p


def latent_map(coords: np.ndarray, values: np.ndarray, label: str, path, explained=None) -> Path:
    p = check_png(path)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    sc = ax.scatter(coords[:, 0], coords[:, 1], c=values, s=6, cmap="viridis")
    fig.colorbar(sc, label=label)
    ev = explained if explained is not None else [np.nan, np.nan]
    ax.set_xlabel(f"PC1 ({ev[0]:.0%} of variance)")
    ax.set_ylabel(f"PC2 ({ev[1]:.0%} of variance)")
    ax.set_title(f"latent space (mu), coloured by {label}")
    fig.tight_layout()
    fig.savefig(p, dpi=100)
    plt.close(fig)
    return p
