"""Latent optimization (molvae.optimize and `molvae optimize`) with the bundled model and small budgets."""
import json
import subprocess
import sys
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

import torch

from molvae import MolVAE, chem
from molvae.cli import main
from molvae.objectives import get_objective
from molvae.optimize import OptimizeError, Oracle, optimize, top_auc

START = "CC(=O)Nc1ccc(O)cc1"  # paracetamol: small, so logp has room to improve near it


@lru_cache(maxsize=None)
def _run(objective, budget, method, seed, batch_size=None, start=None, similarity_min=None):
    return optimize(_model(), objective, budget, method=method, seed=seed, batch_size=batch_size, start=start,
                    similarity_min=similarity_min)


@lru_cache(maxsize=1)
def _model():
    from molvae.api import MolVAE

    return MolVAE.load("moses")  # the model the PMO tables are run on


@pytest.fixture(scope="module")
def vae():
    return _model()


# -- PMO's top-10 AUC on hand-made sequences ----------------------------------------------------------------
def test_top_auc_known_values():
    ones = np.ones(1000)
    # the curve starts at 0: the first 100 calls form a triangle (50), the next 900 a rectangle (900)
    assert top_auc(ones, 1000) == pytest.approx(0.95)
    assert top_auc(ones[:100], 100) == pytest.approx(0.5)
    # stopping early: the last value is extended to the budget (finish), or not
    assert top_auc(ones[:200], 1000) == pytest.approx(0.95)
    assert top_auc(ones[:200], 1000, finish=False) == pytest.approx(0.15)
    # a jump after 100 calls: logged at 100 (0), then the last point at 200 (1)
    assert top_auc(np.r_[np.zeros(100), np.ones(100)], 200) == pytest.approx(0.25)
    # fewer than 10 scores: their mean
    assert top_auc([0.5, 1.0], 100) == pytest.approx((2 * 0.75 / 2 + 98 * 0.75) / 100)
    # top-10 of 1..20: 15.5 when maximized, 5.5 when minimized
    assert top_auc(np.arange(1, 21), 20) == pytest.approx(20 * 15.5 / 2 / 20)
    assert top_auc(np.arange(1, 21), 20, direction="minimize") == pytest.approx(20 * 5.5 / 2 / 20)
    # infeasible calls keep their place on the call axis but are not among the top
    assert top_auc([1.0, 5.0], 2, feasible=[True, False]) == pytest.approx(0.5)
    # the top-10 mean is tracked, not the best: one good molecule among 0s counts a tenth
    s = np.zeros(300)
    s[0] = 1.0
    assert top_auc(s, 300) == pytest.approx((100 * 0.1 / 2 + 100 * 0.1 + 100 * 0.1) / 300)


# -- the oracle: cache, budget, log ---------------------------------------------------------------------------
def test_oracle_counts_distinct_valid_molecules_and_caches_repeats():
    qed = get_objective("qed")
    o = Oracle(qed, budget=3)
    v = o(["CCO", "OCC", None, "C1CC", "c1ccccc1"])
    assert o.calls == 2 and o.repeats == 1 and o.invalid == 2
    assert v[0] == v[1] == pytest.approx(qed(["CCO"])[0]) and np.isnan(v[2]) and np.isnan(v[3])
    v = o(["CCN", "CCC", "CCO"])  # CCN is the third call; CCC comes after the budget; CCO is free
    assert o.calls == 3 and o.exhausted and np.isnan(v[1]) and v[2] == pytest.approx(qed(["CCO"])[0])
    log = pd.DataFrame(o.rows)
    assert list(log.columns) == ["call", "smiles", "score"]
    assert list(log["call"]) == [1, 2, 3] and list(log["smiles"]) == ["CCO", "c1ccccc1", "CCN"]
    assert np.allclose(log["score"], qed(list(log["smiles"])))


def test_oracle_minimizes_internally_and_logs_components():
    sa = get_objective("sa")
    o = Oracle(sa, budget=5)
    v = o(["CCO"])
    assert v[0] == pytest.approx(-sa(["CCO"])[0]) and o.rows[0]["score"] == pytest.approx(sa(["CCO"])[0])
    o = Oracle(get_objective("zaleplon_mpo"), budget=5)
    o(["CCO", "c1ccccc1C#N"])
    log = pd.DataFrame(o.rows)
    assert list(log.columns) == ["call", "smiles", "score", "similarity_ecfp4", "isomer_C19H17N3O2"]


# -- methods ---------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_random_spends_the_budget_exactly_and_is_deterministic():
    a = _run("qed", 60, "random", 1)
    b = optimize(_model(), "qed", 60, method="random", seed=1)
    c = _run("qed", 60, "random", 2)
    assert len(a.log) == a.summary["calls"] == 60 and list(a.log["call"]) == list(range(1, 61))
    assert a.log["smiles"].is_unique and all(chem.canonical(s) == s for s in a.log["smiles"])
    assert np.allclose(a.log["score"], get_objective("qed")(list(a.log["smiles"])))  # recomputable by anyone
    pd.testing.assert_frame_equal(a.log, b.log)
    assert not a.log["smiles"].equals(c.log["smiles"])
    s = a.summary
    assert s["best_score"] == pytest.approx(a.log["score"].max()) and s["stopped"] == "budget"
    assert s["best_smiles"] == a.log.loc[a.log["score"].idxmax(), "smiles"]
    assert s["auc_top10"] == pytest.approx(top_auc(a.log["score"], 60))
    assert s["top10_mean"] == pytest.approx(np.sort(a.log["score"])[-10:].mean())


@pytest.mark.slow
def test_bo_spends_the_budget_exactly_is_deterministic_and_beats_random():
    bo = [_run("logp", 120, "bo", seed, 20) for seed in (0, 1)]
    again = optimize(_model(), "logp", 120, method="bo", seed=0, batch_size=20)
    pd.testing.assert_frame_equal(bo[0].log, again.log)
    for r in bo:
        assert len(r.log) == r.summary["calls"] == 120 and r.log["smiles"].is_unique
        assert list(r.log["call"]) == list(range(1, 121))
    rnd = [_run("logp", 120, "random", seed) for seed in (0, 1)]
    # measured on 4 seeds at budget 200: BO's top-10 mean 5.1-8.1, random's 4.2-4.4
    assert np.mean([r.summary["top10_mean"] for r in bo]) > np.mean([r.summary["top10_mean"] for r in rnd])
    assert np.mean([r.summary["auc_top10"] for r in bo]) > np.mean([r.summary["auc_top10"] for r in rnd])


def test_gradient_moves_towards_better_molecules():
    r = _run("logp", 80, "gradient", 0, 20)
    assert len(r.log) == 80 and r.log["smiles"].is_unique
    first, rest = r.log["score"][:40], r.log["score"][40:]  # 40 prior draws, then 40 from gradient ascent
    assert rest.mean() > first.mean() + 0.3


@pytest.mark.slow
def test_gradient_caps_the_decodes_spent_on_paths_to_known_molecules(vae, monkeypatch):
    """Tiny steps and no jitter: every path decodes to its start, a known molecule. Between two oracle calls
    the method decodes at most max_decode * q path points, then q prior draws; it still spends the budget."""
    events, decode, call = [], vae.decode, Oracle.__call__

    def counting_decode(z, **kw):
        events.append(len(z))
        return decode(z, **kw)

    def marking_call(self, smiles):
        events.append(None)
        return call(self, smiles)

    monkeypatch.setattr(vae, "decode", counting_decode)
    monkeypatch.setattr(Oracle, "__call__", marking_call)
    q = 10
    r = optimize(vae, "logp", 100, method="gradient", seed=0, batch_size=q, step_size=1e-3, noise=0.0,
                 max_decode=4, grow_max=1.0)
    gaps, run = [], 0
    for e in events:
        if e is None:
            gaps.append(run)
            run = 0
        else:
            run += e
    assert len(r.log) == 100 and r.log["smiles"].is_unique
    assert max(gaps) == 4 * q + q  # the cap was reached (two blocks of 2q path points, then q prior draws)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["random", "bo"])
def test_constrained_mode_reports_only_molecules_above_the_floor(method):
    r = _run("logp", 60, method, 0, 10 if method == "bo" else None, START, 0.4)
    log, s = r.log, r.summary
    assert log["smiles"][0] == chem.canonical(START) and log["similarity"][0] == 1.0 and log["call"][0] == 1
    assert len(log) == 60 and "similarity" in log
    assert s["start_score"] == pytest.approx(get_objective("logp")([START])[0])
    best = r.best(10)
    assert len(best) and (best["similarity"] >= 0.4).all()
    assert s["best_similarity"] >= 0.4 and s["best_score"] == pytest.approx(best["score"].iloc[0])
    assert s["top10_mean"] == pytest.approx(best["score"].mean()) and s["top10_mean"] <= s["best_score"]
    assert s["improvement"] == pytest.approx(s["best_score"] - s["start_score"]) and s["improvement"] >= 0
    sims = [round(float(x), 4) for x in log["similarity"]]
    from molvae.chem import tanimoto

    assert sims[:5] == [round(tanimoto(m, START), 4) for m in log["smiles"][:5]]
    assert s["improvement"] > 0  # logp from paracetamol (0.68) is easy to raise within similarity 0.4
    # the floor is checked before the objective: decodes below it cost no call and never reach the log
    assert (log["similarity"] >= 0.4).all() and s["feasible_calls"] == 60 and s["below_floor"] > 0


def test_molecules_below_the_floor_are_not_scored():
    from molvae.optimize import Oracle

    seen = []

    class Spy:  # the logp objective, recording what it is asked to score
        name, direction = "logp", "maximize"

        def __call__(self, smiles):
            seen.extend(smiles)
            return get_objective("logp")(smiles)

    oracle = Oracle(Spy(), budget=3, start=chem.canonical(START), similarity_min=0.4)
    oracle([START])  # the start is scored first: its value anchors the penalty
    far = "CCCCCCCCCCCC"
    near = "CC(=O)Nc1ccc(OC)cc1"  # paracetamol's methyl ether, similarity >= 0.4
    values = oracle([far, near, far])
    assert seen == [chem.canonical(START), chem.canonical(near)] and oracle.calls == 2
    assert values[0] == values[2] < oracle.start_value - 1 and np.isfinite(values[1])
    assert oracle.known(far) and oracle.repeats == 1


def test_molecules_below_the_floor_count_as_progress_up_to_a_limit(vae):
    oracle = Oracle(get_objective("logp"), budget=5, start=chem.canonical(START), similarity_min=0.4,
                    below_limit=2)
    oracle([START])
    assert oracle.seen == 1 and not oracle.exhausted
    oracle(["CCCCCCCCCCCC", "CCCCCCCCCCCC", "c1ccccc1"])  # two distinct molecules below the floor, no call
    assert oracle.calls == 1 and oracle.seen == 3 and oracle.exhausted and oracle.stop_reason == "below_limit"
    # a run whose every decode lands below the floor stops at the limit, not after a few batches, and says why
    r = optimize(vae, "logp", 20, method="random", start="C1CC2CC1C1C3CCC(C3)C21", similarity_min=0.95,
                 batch_size=10, below_limit=150)
    s = r.summary
    assert s["calls"] < 20 and s["stopped"] == "below_limit" and 150 <= s["below_floor"] < 160


@pytest.mark.slow
def test_bo_refits_its_surrogate_only_after_the_oracle_answers(vae, monkeypatch):
    """Below the floor a batch costs no call: the GP's hyperparameters are not refitted for it (the fits were
    three quarters of a constrained run's time), so there are at most as many fits as calls."""
    from molvae.optimize import bo as bo_mod

    real, fits = bo_mod._botorch, []

    def counting():
        fit, *rest = real()
        return (lambda *a, **k: fits.append(1) or fit(*a, **k)), *rest

    monkeypatch.setattr(bo_mod, "_botorch", counting)
    r = optimize(vae, "logp", 15, method="bo", start=START, similarity_min=0.6, batch_size=5, seed=1,
                 below_limit=150)
    s = r.summary
    assert s["below_floor"] > 20 and 1 <= len(fits) <= s["calls"]


def test_the_trust_region_grows_after_a_run_of_improvements_and_halves_after_a_run_of_failures():
    from molvae.optimize.bo import TrustRegion

    r = TrustRegion(0.4, 0.01, 1.0, success_tol=2, fail_tol=3, best=1.0)
    r.update(np.array([0.5, 2.0]))
    assert r.length == 0.4 and r.best == 2.0
    r.update(np.array([3.0]))
    assert r.length == 0.8  # two improvements in a row
    r.update(np.array([5.0]))
    r.update(np.array([6.0]))
    assert r.length == 1.0  # capped at length_max
    r.update(np.array([6.001]))  # within a thousandth of the best: not an improvement
    r.update(np.array([]))
    assert r.length == 1.0 and r.best == 6.0
    r.update(np.array([1.0]))
    assert r.length == 0.5  # three failures in a row
    r.update(np.array([7.0]))
    r.update(np.array([1.0]))
    r.update(np.array([1.0]))
    assert r.length == 0.5  # the improvement broke the run of failures
    r.restart(0.8)
    assert (r.length, r.run, r.best) == (0.8, [], -float("inf"))


def test_the_trust_region_box_follows_the_lengthscales_and_keeps_the_volume_of_a_cube():
    from molvae.optimize.bo import region_box

    lower, upper = region_box(np.full(3, 0.5), [0.5, 1.0, 2.0], 0.2)
    side = (upper - lower).numpy()
    assert side == pytest.approx([0.1, 0.2, 0.4]) and np.prod(side) == pytest.approx(0.2**3)
    lower, upper = region_box(np.array([0.05, 0.5, 0.95]), [1.0, 1.0, 1.0], 0.2)
    assert lower.numpy() == pytest.approx([0.0, 0.4, 0.85]) and upper.numpy() == pytest.approx([0.15, 0.6, 1.0])


def test_a_surrogate_that_fails_to_fit_is_reported_in_the_summary_and_the_run_goes_on(vae, monkeypatch):
    from molvae.optimize import bo as bo_mod

    real = bo_mod._botorch

    def failing():
        _, *rest = real()

        def fit(*a, **k):
            raise RuntimeError("no convergence")

        return fit, *rest

    monkeypatch.setattr(bo_mod, "_botorch", failing)
    s = optimize(vae, "qed", 30, method="bo", batch_size=5, seed=0).summary
    assert s["calls"] == 30 and s["gp_fit_failures"] >= 1


def test_bad_requests_raise_one_line_errors(vae):
    for kwargs, msg in [(dict(budget=0), "budget must be a positive"),
                        (dict(method="annealing"), "unknown method"),
                        (dict(start="C1CC"), "invalid start molecule"),
                        (dict(start="CCO", similarity_min=1.5), "similarity minimum must be in [0, 1]"),
                        (dict(similarity_min=0.4), "needs a start molecule"),
                        (dict(method="bo", n_inti=5), "method 'bo' has no option 'n_inti'"),
                        (dict(method="random", steps=3), "method 'random' has no option 'steps'")]:
        with pytest.raises(OptimizeError, match=msg.replace("[", r"\[").replace("]", r"\]")):
            optimize(vae, "qed", **{"budget": 10, **kwargs})


def test_random_works_without_botorch_and_bo_says_how_to_get_it(vae, monkeypatch):
    for name in ("botorch", "botorch.fit", "botorch.generation", "botorch.models"):
        monkeypatch.setitem(sys.modules, name, None)  # import botorch... now raises ImportError
    assert len(optimize(vae, "qed", 10, method="random", seed=0).log) == 10
    with pytest.raises(OptimizeError, match="needs BoTorch"):
        optimize(vae, "qed", 10, method="bo", seed=0)


# -- command line ----------------------------------------------------------------------------------------------
def test_cli_writes_the_call_log_and_summary(tmp_path, capsys):
    out, summ = tmp_path / "log.csv", tmp_path / "summary.json"
    assert main(["optimize", "--objective", "qed", "--budget", "30", "--method", "random", "--seed", "3",
                 "-o", str(out), "--summary", str(summ), "--quiet"]) == 0
    df = pd.read_csv(out)
    assert list(df.columns) == ["call", "smiles", "score"] and list(df["call"]) == list(range(1, 31))
    s = json.loads(summ.read_text())
    assert s["calls"] == 30 and s["best_score"] == pytest.approx(df["score"].max())
    assert [b["score"] for b in s["best"]] == pytest.approx(sorted(df["score"], reverse=True)[:10])
    err = capsys.readouterr().err
    assert "30 of 30 calls" in err and "top-10 AUC" in err


def _cli_error(args, capsys):
    try:
        code = main(["optimize", *args])
    except SystemExit as exc:  # argparse errors
        code = exc.code
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    return code, err


@pytest.mark.parametrize("args,message", [
    (["--objective", "no_such_objective"], "unknown objective"),
    (["--objective", "smarts:[[["], "invalid SMARTS"),
    (["--objective", "isomer:C7H8Q"], "invalid molecular formula"),
    (["--objective", "{toml}"], "invalid TOML"),
    (["--objective", "qed", "--start", "C1CC"], "invalid start molecule"),
    (["--objective", "qed", "--budget", "0"], "--budget must be positive"),
    (["--objective", "qed", "--budget", "-5"], "--budget must be positive"),
    (["--objective", "qed", "--start", "CCO", "--similarity-min", "1.5"], "must be in [0, 1]"),
    (["--objective", "qed", "--similarity-min", "0.4"], "needs a start molecule"),
    (["--objective", "qed", "-o", "/nonexistent/dir/out.csv"], "output directory does not exist"),
    (["--objective", "qed", "-o", "{tmp}/out.xlsx"], "unsupported output type"),
    (["--objective", "os:system"], "runs only with --allow-python"),
    (["--objective", "{evil_toml}"], "runs only with --allow-python"),
])
def test_cli_user_errors_are_one_line(args, message, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [unclosed\n")
    evil = tmp_path / "evil.toml"
    evil.write_text('[[component]]\nproperty = "subprocess:call"\n')
    args = [a.replace("{toml}", str(bad)).replace("{tmp}", str(tmp_path)).replace("{evil_toml}", str(evil))
            for a in args]
    if "--budget" not in args:
        args += ["--budget", "10"]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "out.csv")]
    code, err = _cli_error(args, capsys)
    assert code == 2 and len(err) == 1 and message in err[0], err


def test_cli_error_in_a_fresh_process_has_no_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "molvae", "optimize", "--objective", "qed", "--budget", "5",
                        "--start", "not a molecule", "-o", str(tmp_path / "o.csv")], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert [l for l in r.stderr.splitlines() if l.strip()] == [
        "molvae optimize: error: invalid start molecule (parse error): 'not a molecule'"]


def test_cli_allow_python_runs_a_user_objective_and_its_error_is_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "user_obj_mod.py").write_text("def n_atoms(smiles):\n    return [len(s) for s in smiles]\n"
                                              "def broken(smiles):\n    raise KeyError('descriptor')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "log.csv"
    assert main(["optimize", "--objective", "user_obj_mod:n_atoms", "--allow-python", "--budget", "12",
                 "--method", "random", "-o", str(out), "--quiet"]) == 0
    assert len(pd.read_csv(out)) == 12
    capsys.readouterr()
    code, err = _cli_error(["--objective", "user_obj_mod:broken", "--allow-python", "--budget", "5", "--method",
                            "random", "-o", str(out), "--quiet"], capsys)
    assert code == 2 and len(err) == 1 and "'user_obj_mod:broken' raised KeyError" in err[0], err


def test_a_start_that_mu_does_not_reconstruct_is_inverted(vae):
    """Ibuprofen's mu decodes to an alcohol; inversion finds a latent that decodes to ibuprofen itself, so a
    constrained run starts inside the feasible region."""
    ibuprofen = "CC(C)Cc1ccc(C(C)C(=O)O)cc1"
    assert vae.decode(vae.encode([ibuprofen]))[0] != ibuprofen
    z, ok = vae.invert(ibuprofen)
    assert ok and vae.decode(z[None])[0] == ibuprofen
    r = optimize(vae, "logp", 20, method="random", start=ibuprofen, similarity_min=0.4, seed=0, below_limit=200)
    assert r.summary["start_latent_decodes_to_start"] and r.summary["feasible_calls"] > 1


def test_an_interrupted_run_keeps_its_calls_marked_incomplete(vae, monkeypatch):
    calls = {"n": 0}
    real = Oracle._score

    def interrupt_after_two_batches(self, new, sims):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, new, sims)

    monkeypatch.setattr(Oracle, "_score", interrupt_after_two_batches)
    r = optimize(vae, "qed", 100, method="random", seed=0, batch_size=10)
    assert r.summary["stopped"] == "interrupted" and r.summary["incomplete"] is True
    assert 0 < len(r.log) < 100 and list(r.log["call"]) == list(range(1, len(r.log) + 1))


def test_retraining_weights_follow_rank():
    from molvae.optimize.retrain import Retrainer

    w = Retrainer(10, k=1e-3).weights(np.array([0.1, 0.9, 0.5, 0.3]))
    assert w.sum() == pytest.approx(1.0) and list(np.argsort(-w)) == [1, 2, 3, 0]
    assert w[1] / w[2] == pytest.approx((1e-3 * 4 + 1) / (1e-3 * 4))  # 1 / (kN + rank)


def test_retraining_moves_the_decoder_towards_the_best_molecules(tiny_model, train_smiles):
    """After a round, the model's reconstruction loss of the best-ranked molecules falls more than that of the
    worst; the archive's latents are mu under the new weights; the caller's model is untouched."""
    from molvae.optimize.oracle import Archive, Search
    from molvae.optimize.retrain import Retrainer

    vae = MolVAE.load(tiny_model)
    smiles = train_smiles[:40]
    y = np.linspace(1.0, 0.0, 40)  # the first molecules are the best
    seqs, _ = vae.tokenize(smiles)

    def nll(v, idx):
        out = []
        for _, x, lengths in v.batches([seqs[i] for i in idx]):
            out.append(v.elbo_terms(x, lengths)["nll"])
        return float(np.concatenate(out).mean())

    import copy

    run_vae = copy.deepcopy(vae)
    archive = Archive(vae.latent_dim)
    archive.add(np.zeros((40, vae.latent_dim)), y, smiles)
    oracle = Oracle(get_objective("qed"), budget=100)
    oracle(smiles)  # 40 calls made
    assert oracle.calls == 40
    search = Search(run_vae, oracle, archive, np.random.default_rng(0), 10)
    top, bottom = list(range(5)), list(range(35, 40))
    before = nll(run_vae, top), nll(run_vae, bottom)
    search.retrainer = Retrainer(20, steps=40, batch_size=16, lr=3e-3)
    assert search.learn() and search.retrainer.rounds == 1 and search.retrainer.due_at == 60
    after = nll(run_vae, top), nll(run_vae, bottom)
    assert before[0] - after[0] > 2 * (before[1] - after[1]) and after[0] < before[0]
    assert np.allclose(archive.z, run_vae.encode(smiles), atol=1e-5)
    assert not search.learn()  # not due again before 60 calls
    assert nll(vae, top) == pytest.approx(before[0])  # a copy was tuned, not the caller's model


def test_retraining_runs_inside_a_search_and_bad_options_are_refused(tiny_model):
    vae = MolVAE.load(tiny_model)
    weights = {k: v.clone() for k, v in vae.model.state_dict().items()}
    r = optimize(vae, "qed", 40, method="gradient", batch_size=10, seed=0, retrain_every=15,
                 retrain_options={"steps": 3, "batch_size": 8})
    assert r.summary["retrain_rounds"] >= 1 and r.summary["retrain_every"] == 15 and len(r.log) == 40
    assert all(torch.equal(weights[k], v) for k, v in vae.model.state_dict().items())
    for kwargs, msg in [(dict(retrain_every=-1), "retrain every must be in"),
                        (dict(retrain_every=10, retrain_options={"stpes": 3}), "retraining has no option 'stpes'"),
                        (dict(retrain_every=10, retrain_options={"lr": 5.0}), "retrain lr must be in"),
                        (dict(retrain_every=10, method="random"), "needs a method that searches")]:
        with pytest.raises(OptimizeError, match=msg):
            optimize(vae, "qed", **{"budget": 10, **kwargs})
    with pytest.raises(OptimizeError, match="int8"):
        optimize(MolVAE.load(tiny_model, int8=True), "qed", 10, retrain_every=5)


def test_auto_runs_gradient_with_retraining_or_bo_from_a_start(tiny_model):
    vae = MolVAE.load(tiny_model)
    s = optimize(vae, "qed", 12, batch_size=6, seed=0).summary
    assert (s["method"], s["method_requested"], s["retrain_every"]) == ("gradient", "auto", 250)
    assert s["retrain_rounds"] == 0 and s["calls"] == 12  # no round is due before 250 calls
    s = optimize(vae, "qed", 6, batch_size=3, seed=0, start="CCOc1ccccc1").summary
    assert (s["method"], s["method_requested"]) == ("bo", "auto") and "retrain_every" not in s
    s = optimize(MolVAE.load(tiny_model, int8=True), "qed", 6, batch_size=3, seed=0).summary
    assert s["method"] == "gradient" and "retrain_every" not in s  # an int8 model cannot be fine-tuned
    s = optimize(vae, "qed", 6, method="gradient", batch_size=3, seed=0).summary
    assert "method_requested" not in s and "retrain_every" not in s


# -- objective failures: counted, reported, and a run that fails too often stops -------------------------------
def _picky(smiles):
    """A user objective that cannot score molecules without nitrogen (NaN)."""
    return [float(s.count("N")) if "N" in s else float("nan") for s in smiles]


def test_the_oracle_counts_the_molecules_the_objective_could_not_score():
    from molvae.objectives.base import CallableObjective

    o = Oracle(CallableObjective("picky", _picky), budget=10, max_failure_share=1.0)
    v = o(["CCN", "CCO", "NCCN", "CCC"])
    assert o.calls == 4 and o.failures == 2 and o.first_failure == "no value for CCO"
    assert list(v) == [1.0, o.objective.penalty, 2.0, o.objective.penalty]
    assert [r["score"] for r in o.rows] == list(v)


def test_a_run_stops_in_one_line_when_too_many_calls_fail(vae):
    from molvae.objectives.base import CallableObjective
    from molvae.optimize.oracle import TooManyFailures

    picky = CallableObjective("picky", _picky)
    r = optimize(vae, picky, 30, method="random", seed=0, max_failure_share=1.0)
    assert r.summary["calls"] == 30 and 0 < r.summary["objective_failures"] < 30
    assert r.summary["objective_failures"] == int(np.isnan(_picky(list(r.log["smiles"]))).sum())
    with pytest.raises(TooManyFailures) as info:
        optimize(vae, picky, 30, method="random", seed=0, max_failure_share=0.0)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("objective 'picky' failed on") and "first failure: no value for" in msg
    s = info.value.result.summary
    assert s["stopped"] == "objective_failures" and s["objective_failures"] == r.summary["objective_failures"]
    with pytest.raises(OptimizeError, match="must be in"):
        optimize(vae, picky, 30, max_failure_share=1.5)


def test_cli_a_failing_objective_stops_with_its_calls_written(tmp_path, capsys, monkeypatch):
    (tmp_path / "flaky_mod.py").write_text("def f(smiles):\n    raise ZeroDivisionError('no oracle')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "log.csv"
    code, err = _cli_error(["--objective", "flaky_mod:f", "--allow-python", "--budget", "25", "--method", "random",
                            "--max-failure-share", "0.5", "-o", str(out), "--quiet"], capsys)
    assert code == 2 and len(err) == 1, err
    assert "failed on 25 of 25 molecules" in err[0] and "raised ZeroDivisionError: no oracle" in err[0]
    assert len(pd.read_csv(out)) == 25
