"""The tables of README.md and docs/*.md are copies of results files and their prose figures round from the results
files each page cites (benchmarks/render_docs.py); a figure that drifts from its results fails here."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import render_docs  # noqa: E402

CHECKED = render_docs.PAGES  # README.md and every docs/*.md page


def test_every_marked_table_and_cited_figure_matches_its_results_file(capsys):
    assert render_docs.main(["--check", "--pages", *CHECKED]) == 0, capsys.readouterr().err


def test_a_marker_renders_the_rows_and_columns_it_names():
    table = render_docs.render({"file": "benchmarks/results/quality_30000.md", "rows": "CharRNN|molvae",
                                "cols": "Model;FCD/Test", "rename": "FCD/Test=>FCD"})
    assert table[0] == "| Model | FCD |" and len(table) == 4
    assert table[2] == "| CharRNN (MOSES) | 0.0732 |"  # MOSES's published CharRNN row, as the results file has it


def test_a_drifted_table_or_figure_is_caught():
    text = (ROOT / "README.md").read_text()
    assert render_docs.render_page(text) == text
    drifted = text.replace("| 0.8521 |", "| 0.8621 |", 1)
    assert drifted != text and render_docs.render_page(drifted) == text  # rendering puts the results back
    prose = text.replace("sums to a top-10 AUC of 9.493", "sums to a top-10 AUC of 9.593", 1)
    assert prose != text
    assert any("9.593" in p for p in render_docs.unsupported_figures("README.md", prose))
    assert render_docs.unsupported_figures("README.md", text) == []


def test_pmo_docs_renders_the_marked_pmo_table_instead_of_copying_it(tmp_path):
    import pmo
    assert not hasattr(pmo, "copy_to_docs")  # the marker, not pmo.py, says which rows, columns and labels
    marker = 'file=benchmarks/results/pmo.md section="Budget 10,000"'
    assert marker in (ROOT / "docs" / "optimization.md").read_text()
    unmarked = tmp_path / "page.md"
    unmarked.write_text("| Task | molvae random |\n|---|---|\n")
    try:
        pmo.render_docs_page(unmarked)
    except SystemExit as e:
        assert "no results marker" in str(e)
    else:
        raise AssertionError("a page without a pmo.md marker was accepted")


def test_guided_choice_takes_the_most_hits_within_ten_percent_of_the_best_fcd():
    import guided_choice

    rows = [dict(oversample=20, local_scale=0.5, hits_per_1000=100, fcd=2.0),
            dict(oversample=5, local_scale=0.5, hits_per_1000=300, fcd=3.0),   # most hits, but FCD 50% worse
            dict(oversample=50, local_scale=0.5, hits_per_1000=150, fcd=2.1),
            dict(oversample=50, local_scale=0.5, hits_per_1000=170, fcd=2.3)]  # same setting, second condition
    c = guided_choice.choose(rows)
    assert (c["oversample"], c["local_scale"]) == (50, 0.5) and c["mean_hits_per_1000"] == 160.0
    assert c["mean_fcd"] == 2.2 and c["means"]["5,0.5"] == [300.0, 3.0]


def test_prior_choice_takes_the_lowest_greedy_fcd_among_novel_priors():
    import prior_choice

    rows = [dict(prior="N(0, I)", decoding="greedy", fcd=1.6, novelty=0.97),
            dict(prior="mixture of 400", decoding="greedy", fcd=1.2, novelty=0.95),
            dict(prior="mixture of 400", decoding="sampled, T = 1", fcd=1.1, novelty=0.96),  # not what sample does
            dict(prior="mixture of 800", decoding="greedy", fcd=1.0, novelty=0.85)]  # hands back training molecules
    assert prior_choice.choose(rows)["prior"] == "mixture of 400"
    rows.append(dict(prior="exemplars (20000), sigma x 4.0", decoding="greedy, rerank 4", fcd=0.9, novelty=0.91))
    assert prior_choice.choose(rows)["decoding"] == "greedy, rerank 4"  # re-ranked greedy decoding counts


def test_decoding_sweep_takes_the_lowest_fcd_at_a_default_cost():
    import decoding_sweep

    base = dict(temperature=1.0, latent_scale=1.0, rerank=1, kept=100, novelty=0.95)
    rows = [dict(base, relaxed=False, draws=100, fcd=1.4), dict(base, relaxed=True, draws=120, fcd=0.9),
            dict(base, relaxed=True, rerank=3, draws=350, fcd=0.8),  # triples the decoding
            dict(base, relaxed=True, latent_scale=0.6, draws=110, fcd=0.7, novelty=0.85)]
    c = decoding_sweep.choose(rows)
    assert c["relaxed"] and c["rerank"] == 1 and c["latent_scale"] == 1.0
    assert "relaxed, rerank 1" in decoding_sweep.label(c)


def test_retrain_choice_takes_the_best_mean_on_the_tuning_tasks_preferring_fewer_rounds():
    import retrain_choice

    def row(k, task, auc):
        return dict(interval=k, task=task, auc=auc, seconds=1.0)

    rows = [row(250, "zaleplon_mpo", 0.56), row(250, "perindopril_mpo", 0.58),   # mean 0.570, the best
            row(500, "zaleplon_mpo", 0.55), row(500, "perindopril_mpo", 0.586),  # mean 0.568: within 0.005
            row(1000, "zaleplon_mpo", 0.60)]                                     # one task only: no candidate
    c = retrain_choice.choose(rows)
    assert c["interval"] == 500 and c["means"] == {"250": 0.57, "500": 0.568}
    rows[2]["auc"] = 0.53  # mean 0.558: more than 0.005 behind
    assert retrain_choice.choose(rows)["interval"] == 250


def test_the_broad_weights_are_chosen_on_stored_and_neutral_forms_together():
    sys.path.insert(0, str(ROOT / "training" / "broad"))
    import choose

    rows = {"a": {"heldout_recon_exact": 0.878, "neutral_recon_exact": 0.582},   # (439 + 249.1) / 928 = 0.741
            "b": {"heldout_recon_exact": 0.866, "neutral_recon_exact": 0.773}}   # (433 + 330.8) / 928 = 0.823
    assert choose.choose(rows, 500, 428) == "b"
    assert abs(choose.both(rows["a"], 500, 428) - (0.878 * 500 + 0.582 * 428) / 928) < 1e-12
    rows["a"]["neutral_recon_exact"] = 0.773  # the same neutral forms: the stored forms decide
    assert choose.choose(rows, 500, 428) == "a"
