"""The model that ships in the package: it loads, samples real molecules and reconstructs."""
import numpy as np

from molvae import chem
from molvae.api import MolVAE
from molvae.io import tables
from tests.conftest import ROOT, moses_head


def test_bundled_model_samples_realistic_molecules():
    vae = MolVAE.load()
    df = vae.sample(200, seed=0)
    assert len(df) == 200 and df["valid"].all()
    mols = [chem.to_mol(s) for s in df["smiles"]]
    assert df["smiles"].nunique() >= 190
    assert np.mean([m.GetNumHeavyAtoms() for m in mols]) >= 15
    assert np.mean([chem.has_aromatic_ring(m) for m in mols]) >= 0.85  # 0.94 measured on 10,000; target 0.90


def test_bundled_model_reconstructs_held_out_molecules():
    vae = MolVAE.load()
    smiles = moses_head(100, "moses_test_scaffolds.csv.gz")
    rec = vae.reconstruct(smiles)
    assert (rec["error"] == "").mean() > 0.95
    assert rec["recon_exact"].mean() >= 0.65  # 0.72 on these first 100 (drug-like); 0.91 on 300 random ones
    mu = vae.encode(smiles[:10])
    assert mu.shape == (10, vae.latent_dim) and np.isfinite(mu).all()


def test_the_bundled_cards_count_the_dimensions_above_the_free_bits_floor_that_encoding_finds():
    """All 64 dimensions pass the active-units test, but only the number the card gives carry more than twice
    the free-bits floor (0.1 nat) on held-out molecules."""
    import json

    import torch

    from molvae.model import active_units, dims_above_floor, kl_per_dim

    smiles = moses_head(500, "moses_test.csv.gz")
    for name in ("moses", "fast"):
        vae = MolVAE.load(name)
        mu, logvar = (torch.from_numpy(a) for a in vae.encode(smiles, return_logvar=True))
        card = json.loads((vae.path / "model.json").read_text())["metrics"]
        assert active_units(mu) == card["active_units"] == 64
        assert dims_above_floor(kl_per_dim(mu, logvar).mean(0), 0.1) == card["kl_above_floor"] < 20


def test_int8_quantized_model_stays_close_to_the_full_model():
    vae, q = MolVAE.load(), MolVAE.load(int8=True)
    smiles = moses_head(60, "moses_test.csv.gz")
    mu, mq = vae.encode(smiles), q.encode(smiles)
    assert np.abs(mu - mq).mean() < 0.1 * np.abs(mu).mean()  # measured 0.016 vs 0.43
    full, quant = vae.reconstruct(smiles)["recon_exact"].mean(), q.reconstruct(smiles)["recon_exact"].mean()
    assert quant >= full - 0.1
    df = q.sample(50, seed=0)
    assert df["valid"].all() and df["smiles"].nunique() >= 48


def test_a_missing_device_is_refused():
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        MolVAE.load(device="cuda")
    with pytest.raises(ValueError, match="unknown device"):
        MolVAE.load(device="tpu")


def test_fast_bundled_model_is_found_by_name_and_samples_realistic_molecules(tmp_path, monkeypatch):
    from molvae.model import checkpoint

    assert checkpoint.bundled_models() == ["default", "broad", "fast", "moses"]
    assert MolVAE.load().path == MolVAE.load("default").path == checkpoint.bundled_dir(checkpoint.DEFAULT_MODEL)
    monkeypatch.chdir(tmp_path)  # a bundled name resolves wherever the user is
    vae = MolVAE.load("fast")
    assert vae.path.name == "fast" and vae.model.cfg.dec_layers == 2 and vae.model.cfg.dec_hidden == 384
    df = vae.sample(200, seed=0)
    assert df["valid"].all() and df["smiles"].nunique() >= 190
    mols = [chem.to_mol(s) for s in df["smiles"]]
    assert np.mean([m.GetNumHeavyAtoms() for m in mols]) >= 15
    assert np.mean([chem.has_aromatic_ring(m) for m in mols]) >= 0.85  # 0.94 measured on 10,000
    smiles = moses_head(100, "moses_test_scaffolds.csv.gz")
    assert vae.reconstruct(smiles)["recon_exact"].mean() >= 0.5  # 0.74 on 300 random scaffold-test molecules


def test_fast_model_head_was_trained_jointly_and_predicts_held_out_properties():
    from molvae.chem import properties

    vae = MolVAE.load("fast")
    assert vae.properties == ("qed", "logp", "sa", "plogp", "tpsa", "mw")
    smiles = moses_head(200, "moses_test.csv.gz")
    pred = vae.predict(smiles).to_numpy()
    mols = [chem.to_mol(s) for s in smiles]
    for j, name in enumerate(vae.properties):
        y = np.array([properties.get(name)(m) for m in mols])
        r2 = 1 - np.mean((pred[:, j] - y) ** 2) / np.var(y)
        assert r2 > 0.75, (name, r2)  # validation R2 0.87 (qed) to 0.98 (mw)


def test_a_directory_of_the_same_name_wins_over_a_bundled_model(tmp_path, monkeypatch, tiny_model):
    import shutil

    monkeypatch.chdir(tmp_path)
    shutil.copytree(tiny_model / "model", tmp_path / "fast")
    assert MolVAE.load("fast").path.resolve() == (tmp_path / "fast").resolve()


def test_a_model_without_stereo_tokens_encodes_stereo_molecules_without_their_stereochemistry():
    """The MOSES-trained models have no stereo tokens: a stereo molecule is encoded flat and the output says
    so (stereo_removed); a charge the vocabulary lacks is still refused with its token."""
    vae = MolVAE.load("moses")
    assert not vae.vocab.has_stereo
    df = vae.reconstruct(["C[C@H](N)C(=O)O", "F/C=C/F", "CC(N)C(=O)O", "C[NH3+]"])
    assert list(df["stereo_removed"]) == [True, True, False, False]
    assert list(df["error"][:3]) == ["", "", ""] and df["error"][3] == "unknown token [NH3+1]"
    assert df["canonical_smiles"][0] == "C[C@H](N)C(=O)O"  # the input as given, stereo included
    mu = vae.encode(["C[C@H](N)C(=O)O", "C[C@@H](N)C(=O)O", "CC(N)C(=O)O"])
    assert np.allclose(mu[0], mu[2]) and np.allclose(mu[1], mu[2])  # both enantiomers encode as the flat molecule


def test_sampling_with_decoding_workers_gives_the_same_molecules_as_without():
    """SELFIES -> SMILES and the RDKit check run in worker processes while the GRU decodes the next batch; the
    draws must not depend on it. Relaxed valence rules make RDKit reject some draws, so more than one round of
    draws is needed, and the filters discard more."""
    from molvae.metrics import filter_function

    vae = MolVAE.load("fast", batch_size=40)
    kw = dict(seed=3, prior="standard", greedy=False, relaxed=True, filters=filter_function("moses"))
    one, two = vae.sample(150, workers=1, **kw), vae.sample(150, workers=2, **kw)
    assert len(one) == 150 and one.attrs["discarded"]["rejected by RDKit"] > 0
    assert one.attrs["discarded"]["failed the filters"] > 0
    assert one.equals(two) and one.attrs == two.attrs
    kept = vae.sample(150, workers=2, seed=3, prior="standard", greedy=False, relaxed=True, keep_invalid=True)
    assert len(kept) == 150 and not kept["valid"].all()
    assert kept.equals(vae.sample(150, workers=1, seed=3, prior="standard", greedy=False, relaxed=True,
                                  keep_invalid=True))


# -- the broad model (ZINC 250k and MOSES, with stereochemistry and charges) -----------------------------------
STEREO_DRUGS = {"naproxen": "COc1ccc2cc([C@H](C)C(=O)O)ccc2c1",
                "sertraline": "CN[C@H]1CC[C@@H](c2ccc(Cl)c(Cl)c2)c2ccccc21",
                "clopidogrel": "COC(=O)[C@H](c1ccccc1Cl)N1CCc2sccc2C1"}


def test_the_broad_model_reads_stereochemistry_and_charges():
    """Stereo molecules keep their stereochemistry (the enantiomers encode apart and come back as themselves),
    and charged forms (a protonated amine, a carboxylate) are read, not refused."""
    vae = MolVAE.load("broad")
    assert vae.path.name == "broad" and vae.vocab.has_stereo
    rec = vae.reconstruct([*STEREO_DRUGS.values(), "C[NH3+]", "CC(=O)[O-]", "CCCC[NH3+]", "O=C([O-])Cc1ccccc1"])
    assert (rec["error"] == "").all() and not rec["stereo_removed"].any()
    assert rec["recon_exact"][:3].all() and list(rec["reconstruction"][:3]) == list(STEREO_DRUGS.values())
    r, s = "C[C@@H](N)Cc1ccccc1", "C[C@H](N)Cc1ccccc1"  # the amphetamine enantiomers
    mu = vae.encode([r, s])
    assert np.abs(mu[0] - mu[1]).max() > 0.1
    assert list(vae.decode(mu)) == [r, s]


def test_score_interpolate_explore_and_optimize_keep_a_stereo_drugs_stereochemistry(tmp_path):
    from molvae.latent.space import explore, interpolate
    from molvae.optimize import optimize
    from molvae.score import score_with_model

    vae = MolVAE.load("broad")
    df, _ = score_with_model(vae, list(STEREO_DRUGS.values()))
    assert df["in_vocab"].all() and df["recon_exact"].all() and not df["stereo_removed"].any()
    path = interpolate(vae, STEREO_DRUGS["naproxen"], STEREO_DRUGS["sertraline"], steps=6)
    assert path.attrs["reconstructs_a"] and path.attrs["reconstructs_b"]
    assert path["smiles"].iloc[0] == STEREO_DRUGS["naproxen"] and path["smiles"].iloc[-1] == STEREO_DRUGS["sertraline"]
    near = explore(vae, STEREO_DRUGS["clopidogrel"], n=8, radius=0.1)
    assert near["same_as_input"].iloc[0] and near["smiles"].iloc[0] == STEREO_DRUGS["clopidogrel"]
    r = optimize(vae, "logp", 12, method="random", start=STEREO_DRUGS["sertraline"], similarity_min=0.4, seed=0)
    assert r.summary["start_latent_decodes_to_start"]


def test_the_broad_model_samples_from_its_exemplar_prior_as_it_was_chosen():
    """Its learned prior is an exemplar prior (benchmarks/results/prior_choice_broad.md,
    prior_choice_broad_run11.md): by default sample decodes greedily and strictly, refines each of eight draws a
    molecule eight times and keeps the molecules its realism critic scores highest, one in eight; the molecules are
    valid, distinct and free of radicals."""
    vae = MolVAE.load("broad")
    assert vae.prior.components == 20000
    assert vae.prior.sampling == {"rerank": 8, "relaxed": False, "refine": 8, "rank": "critic"}
    df = vae.sample(100, seed=0)
    assert df.attrs["drawn"] == 800 and df.attrs["relaxed"] is False and df.attrs["greedy"] is True
    assert df.attrs["refine"] == 8 and df.attrs["refined"] > 0 and df.attrs["rank"] == "critic"
    assert df["valid"].all() and df["smiles"].nunique() >= 97
    assert not any(a.GetNumRadicalElectrons() for s in df["smiles"] for a in chem.to_mol(s).GetAtoms())
    assert df.equals(vae.sample(100, seed=0, rerank=8, relaxed=False, greedy=True, refine=8, rank="critic"))
    pool = vae.sample(800, seed=0, rerank=1)
    score = vae.critic.score(pool["smiles"])
    assert df["smiles"].tolist() == pool["smiles"].iloc[np.sort(np.argsort(-score, kind="stable")[:100])].tolist()


def test_the_broad_critic_scores_held_out_molecules_above_the_models_raw_samples():
    """The critic was fitted on training rows and samples it never saw here: held-out ZINC molecules score higher
    than unranked samples, on average and in most pairs."""
    vae = MolVAE.load("broad")
    real = tables.read_smiles(ROOT / "data" / "zinc250k_test.csv.gz")[:200]
    drawn = vae.sample(200, seed=5, rerank=1)["smiles"]
    r, d = vae.critic.score(real), vae.critic.score(drawn)
    assert np.isfinite(r).all() and np.isfinite(d).all()
    assert r.mean() > d.mean() + 1 and (r[:, None] > d[None, :]).mean() > 0.7


def test_refining_moves_decoder_output_to_molecules_the_broad_model_reconstructs():
    """MolVAE.refine: a molecule the model reconstructs is a fixed point; a radical is saturated first; what is
    not a molecule stays, empty; with likelihood ranking, sample(refine=C) is refine(C) of the sample it would
    have drawn."""
    vae = MolVAE.load("broad")
    sertraline = STEREO_DRUGS["sertraline"]
    out = vae.refine([sertraline, "not a molecule", "CC[CH]CC(=O)Nc1ccccc1"], cycles=3)
    assert list(out.columns) == ["smiles", "selfies", "loglik", "changed"] and len(out) == 3
    assert out.at[0, "smiles"] == sertraline and not out.at[0, "changed"] and out.at[0, "loglik"] < 0
    assert out.at[1, "smiles"] == "" and out.at[1, "selfies"] == "" and not out.at[1, "changed"]
    assert chem.to_mol(out.at[2, "smiles"]) is not None and "[CH]" not in out.at[2, "smiles"]
    assert vae.refine([sertraline], 0)["selfies"].tolist() == [""]
    drawn = vae.sample(40, seed=1, refine=0, rank="likelihood")  # the critic ranks after refining, likelihood before
    refined = vae.sample(40, seed=1, refine=2, rank="likelihood")
    assert refined["smiles"].tolist() == vae.refine(drawn["smiles"], 2)["smiles"].tolist()
    assert refined.attrs["refine"] == 2 and refined.attrs["refined"] == int((refined["smiles"] != drawn["smiles"]).sum())
    radicals = lambda df: sum(any(a.GetNumRadicalElectrons() for a in chem.to_mol(s).GetAtoms()) for s in df["smiles"])  # noqa: E731
    assert radicals(refined) == 0 and refined["valid"].all()
