"""The realism critic: features, fitting, files, and re-ranking samples by it (molvae.model.critic)."""
import json
import shutil

import numpy as np
import pytest

from molvae import MolVAE
from molvae.chem import features as F
from molvae.cli import main
from molvae.errors import MolvaeError
from molvae.model import critic, prior

AROMATIC = ["c1ccccc1" + t for t in ("C", "CC", "O", "N", "Cl", "F", "C(=O)O", "OC", "CN", "C#N")]
ALIPHATIC = ["C1CCCCC1" + t for t in ("C", "CC", "O", "N", "Cl", "F", "C(=O)O", "OC", "CN", "C#N")]


@pytest.fixture
def model_copy(tiny_model, tmp_path):
    d = tmp_path / "m"
    shutil.copytree(tiny_model / "model", d)
    return d


def test_features_describe_molecules_and_leave_non_molecules_empty():
    x = F.features(["c1ccccc1", "C1=CC=CCC1", "", "not a molecule"])
    assert x.shape == (4, F.WIDTH) and np.isnan(x[2:]).all() and not np.isnan(x[:2]).any()
    names = {n: F.MORGAN_BITS + i for i, n in enumerate(F.DESCRIPTORS)}
    assert x[0, names["aromatic rings"]] == 1 and x[0, names["double bonds"]] == 0 and x[0, names["6-rings"]] == 1
    assert x[1, names["aromatic rings"]] == 0 and x[1, names["double bonds"]] == 2


def test_a_critic_learns_to_tell_two_kinds_of_molecule_apart_and_round_trips(tmp_path):
    pos, neg = AROMATIC * 20, ALIPHATIC * 20
    fitted, record = critic.fit(pos, neg + ["not a molecule"], epochs=5, seed=0)
    assert record["training_molecules"] == 200 and record["sampled_molecules"] == 200  # the bad row left out
    assert record["held_out_accuracy"] > 0.9
    s = fitted.score(["c1ccccc1CCC", "C1CCCCC1CCC", "nonsense"])
    assert s[0] > 0 > s[1] and np.isnan(s[2])
    (tmp_path / "MODEL_CARD.md").write_text("# A model\n\nText.\n")
    critic.save(tmp_path, fitted, record)
    critic.save(tmp_path, fitted, record)  # the card's section is replaced, not repeated
    assert (tmp_path / "MODEL_CARD.md").read_text().count("## Realism critic") == 1
    loaded = critic.load(tmp_path)
    np.testing.assert_allclose(loaded.score(AROMATIC + ALIPHATIC), fitted.score(AROMATIC + ALIPHATIC), atol=0.05)
    assert critic.load(tmp_path / "nothing here") is None
    with pytest.raises(MolvaeError, match="at least 10 molecules"):
        critic.fit(pos, neg[:5])


def test_a_damaged_critic_is_one_line(tmp_path):
    fitted, record = critic.fit(AROMATIC * 2, ALIPHATIC * 2, epochs=1)
    critic.save(tmp_path, fitted, record)
    (tmp_path / "critic.json").write_text(json.dumps({"kind": "mlp", "width": 7}))
    with pytest.raises(critic.CriticError, match="damaged critic"):
        critic.load(tmp_path)
    critic.save(tmp_path, fitted, record)
    (tmp_path / "critic.safetensors").write_bytes(b"\0" * 10)
    with pytest.raises(critic.CriticError, match="damaged critic"):
        critic.load(tmp_path)


def test_fit_critic_records_critic_ranking_and_sample_keeps_what_it_scores_highest(model_copy, tiny_csv, capsys):
    code = main(["fit-critic", "--model", str(model_copy), "--data", str(tiny_csv), "--molecules", "200",
                 "--samples", "100", "--epochs", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "fit one first (molvae fit-prior)" in err[0]
    assert main(["fit-prior", "--model", str(model_copy), "--data", str(tiny_csv), "--kind", "exemplars",
                 "--components", "20", "--scale", "1.5", "--rerank", "3", "--refine", "1"]) == 0
    assert main(["fit-critic", "--model", str(model_copy), "--data", str(tiny_csv), "--skip", "100",
                 "--molecules", "200", "--samples", "100", "--epochs", "2"]) == 0
    record = json.loads((model_copy / "critic.json").read_text())
    assert record["rows"] == [100, 300] and record["sampled_molecules"] > 50
    assert "## Realism critic" in (model_copy / "MODEL_CARD.md").read_text()
    vae = MolVAE.load(model_copy)
    assert vae.prior.sampling == {"rerank": 3, "refine": 1, "rank": "critic"}
    chosen = vae.sample(15, seed=0)
    pool = vae.sample(45, seed=0, rerank=1)  # the same draws, each refined once
    scores = vae.critic.score(pool["smiles"])
    best = np.sort(np.argsort(-scores, kind="stable")[:15])
    assert chosen["smiles"].tolist() == pool["smiles"].iloc[best].tolist() and chosen.attrs["rank"] == "critic"
    by_likelihood = vae.sample(15, seed=0, rank="likelihood")
    assert by_likelihood.attrs.get("rank") is None and by_likelihood["smiles"].tolist() != chosen["smiles"].tolist()
    with pytest.raises(MolvaeError, match="unknown rank"):
        vae.sample(5, rank="best")
    capsys.readouterr()
    assert main(["sample", "-n", "4", "--model", str(model_copy), "--rank", "likelihood"]) == 0
    assert len(capsys.readouterr().out.split()) == 4


def test_ranking_by_a_critic_the_model_lacks_is_one_line(model_copy, tiny_csv, capsys):
    assert main(["fit-prior", "--model", str(model_copy), "--data", str(tiny_csv), "--components", "4"]) == 0
    capsys.readouterr()
    code = main(["sample", "-n", "3", "--model", str(model_copy), "--rerank", "2", "--rank", "critic"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "no critic to rank by" in err[0]
    record = json.loads((model_copy / "prior.json").read_text())
    (model_copy / "prior.json").write_text(json.dumps({**record, "sampling": {"rank": "best"}}))
    code = main(["sample", "-n", "3", "--model", str(model_copy)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "damaged prior" in err[0]
    with pytest.raises(prior.PriorError, match="cannot record"):
        prior.record_sampling(model_copy, rank="best")


def test_fit_critic_never_writes_into_the_installed_package(capsys, tiny_csv):
    code = main(["fit-critic", "--model", "broad", "--data", str(tiny_csv)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--out DIR" in err[0] and "fit-critic" in err[0]
