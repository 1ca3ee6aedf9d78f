"""Tests of the broad model as the default, run on a candidate export (training/broad/export.py) with
DEFAULT_MODEL = "broad"; they join tests/test_bundled.py (which imports np and MolVAE) when the broad model ships."""


# -- the default model: the broad model (ZINC 250k and MOSES, with stereochemistry and charges) --------------
STEREO_DRUGS = {"naproxen": "COc1ccc2cc([C@H](C)C(=O)O)ccc2c1",
                "sertraline": "CN[C@H]1CC[C@@H](c2ccc(Cl)c(Cl)c2)c2ccccc21",
                "clopidogrel": "COC(=O)[C@H](c1ccccc1Cl)N1CCc2sccc2C1"}


def test_the_default_model_is_the_broad_model_and_reads_stereochemistry_and_charges():
    """Stereo molecules keep their stereochemistry (the enantiomers encode apart and come back as themselves),
    and charged forms (a protonated amine, a carboxylate) are read, not refused."""
    vae = MolVAE.load()
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

    vae = MolVAE.load()
    df, _ = score_with_model(vae, list(STEREO_DRUGS.values()))
    assert df["in_vocab"].all() and df["recon_exact"].all() and not df["stereo_removed"].any()
    path = interpolate(vae, STEREO_DRUGS["naproxen"], STEREO_DRUGS["sertraline"], steps=6)
    assert path.attrs["reconstructs_a"] and path.attrs["reconstructs_b"]
    assert path["smiles"].iloc[0] == STEREO_DRUGS["naproxen"] and path["smiles"].iloc[-1] == STEREO_DRUGS["sertraline"]
    near = explore(vae, STEREO_DRUGS["clopidogrel"], n=8, radius=0.1)
    assert near["same_as_input"].iloc[0] and near["smiles"].iloc[0] == STEREO_DRUGS["clopidogrel"]
    r = optimize(vae, "logp", 12, method="random", start=STEREO_DRUGS["sertraline"], similarity_min=0.4, seed=0)
    assert r.summary["start_latent_decodes_to_start"]
