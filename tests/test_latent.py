import numpy as np
import pandas as pd
import pytest

from molvae import latent
from molvae.api import MolVAE
from molvae.cli import main

A, B = "CC(=O)Nc1ccc(O)cc1", "c1ccccc1CCN"


def test_paths_start_and_end_at_the_ends():
    za, zb = np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0])
    for method in ("linear", "slerp"):
        t, z = latent.path(za, zb, 5, method)
        assert np.allclose(z[0], za) and np.allclose(z[-1], zb) and np.allclose(t, [0, .25, .5, .75, 1])
    _, z = latent.path(za, zb, 3, "slerp")
    assert np.linalg.norm(z[1]) > np.linalg.norm((za + zb) / 2)  # slerp keeps the norm up
    with pytest.raises(ValueError):
        latent.path(za, zb, 1)
    with pytest.raises(ValueError):
        latent.path(za, zb, 3, "cubic")


def test_pca_finds_the_main_axis():
    rng = np.random.default_rng(0)
    x = np.c_[rng.normal(0, 10, 500), rng.normal(0, 1, 500), rng.normal(0, 0.1, 500)]
    coords, var = latent.pca_2d(x)
    assert coords.shape == (500, 2) and var[0] > 0.95
    assert abs(np.corrcoef(coords[:, 0], x[:, 0])[0, 1]) > 0.99


def test_interpolation_is_valid_and_deterministic(tiny_model):
    vae = MolVAE.load(tiny_model)
    df = latent.interpolate(vae, A, B, steps=7, method="slerp")
    assert list(df["step"]) == list(range(7)) and df["valid"].all()
    assert df.equals(latent.interpolate(vae, A, B, steps=7, method="slerp"))
    assert df["same_as_previous"].iloc[0] == False  # noqa: E712
    assert (df["same_as_previous"].iloc[1:] == (df["smiles"].iloc[1:].values == df["smiles"].iloc[:-1].values)).all()
    assert df.attrs["reconstructs_a"] == (df["smiles"].iloc[0] == df.attrs["a"])


def test_neighbours_sorted_and_seeded(tiny_model):
    vae = MolVAE.load(tiny_model)
    df = latent.explore(vae, A, n=12, radius=0.5, seed=3)
    assert len(df) == 12 and df["valid"].all() and df["latent_distance"].is_monotonic_increasing
    assert (df["latent_distance"] <= 0.5).all()
    assert df.equals(latent.explore(vae, A, n=12, radius=0.5, seed=3))
    assert not df.equals(latent.explore(vae, A, n=12, radius=0.5, seed=4))


def test_latent_commands_write_files(tmp_path, tiny_model, tiny_csv):
    m = ["--model", str(tiny_model)]
    assert main(["interpolate", A, B, "--steps", "5", "-o", str(tmp_path / "i.csv"),
                 "--image", str(tmp_path / "i.png"), *m]) == 0
    assert len(pd.read_csv(tmp_path / "i.csv")) == 5 and (tmp_path / "i.png").stat().st_size > 1000
    assert main(["explore", A, "-n", "6", "-o", str(tmp_path / "e.csv"), "--image", str(tmp_path / "e.png"), *m]) == 0
    assert len(pd.read_csv(tmp_path / "e.csv")) == 6
    assert main(["encode", str(tiny_csv), "-o", str(tmp_path / "z.npy"), *m]) == 0
    z = np.load(tmp_path / "z.npy")
    assert z.shape == (400, 8) and np.isfinite(z).all()
    assert main(["encode", str(tiny_csv), "-o", str(tmp_path / "z.parquet"), *m]) == 0
    assert pd.read_parquet(tmp_path / "z.parquet").shape == (400, 9)
    assert main(["map", str(tiny_csv), "--property", "logp", "-o", str(tmp_path / "map.png"), *m]) == 0
    assert (tmp_path / "map.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["sample", "-n", "6", "--image", str(tmp_path / "s.png"), "-o", str(tmp_path / "s.csv"), *m]) == 0
    assert (tmp_path / "s.png").exists()
    assert (tiny_model / "training_curves.png").exists()


@pytest.mark.parametrize("args,message", [
    (["interpolate", "C1CC", B, "-o", "OUT"], "A cannot be encoded (parse error)"),
    (["interpolate", A, B, "--steps", "1", "-o", "OUT"], "--steps must be at least 2"),
    (["explore", "xyz", "-o", "OUT"], "cannot be encoded"),
    (["map", "IN", "--property", "nope", "-o", "x.png"], "unknown property 'nope'"),
    (["encode", "IN", "-o", "z.txt"], "output must be .npy or .parquet"),
])
def test_latent_command_errors(tmp_path, tiny_model, tiny_csv, capsys, args, message):
    args = [a.replace("OUT", str(tmp_path / "o.csv")).replace("IN", str(tiny_csv)) for a in args]
    assert main([*args, "--model", str(tiny_model)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
