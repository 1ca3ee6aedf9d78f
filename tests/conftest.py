import gzip
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


def moses_head(n: int, name: str = "moses_train_300k.csv.gz") -> list[str]:
    with gzip.open(DATA / name, "rt") as fh:
        next(fh)
        return [next(fh).strip() for _ in range(n)]


@pytest.fixture(scope="session")
def train_smiles():
    return moses_head(400)


@pytest.fixture(scope="session")
def tiny_csv(tmp_path_factory, train_smiles):
    p = tmp_path_factory.mktemp("data") / "tiny.csv"
    p.write_text("id,SMILES\n" + "".join(f"m{i},{s}\n" for i, s in enumerate(train_smiles)))
    return p


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, tiny_csv):
    """A small model trained for a few epochs on 400 MOSES molecules: the fixture every model test shares."""
    from molvae.train import TrainConfig, train

    out = tmp_path_factory.mktemp("run") / "tiny"
    cfg = TrainConfig(data=str(tiny_csv), out=str(out), epochs=6, batch_size=32, emb_dim=16, dec_hidden=64,
                      enc_hidden=32, latent_dim=8, kl_warmup_steps=50, val_fraction=0.1, lr=3e-3, seed=1)
    train(cfg, log=lambda m: None)
    return out
