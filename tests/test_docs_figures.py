"""The README's tables are copies of results files and its prose figures round from the results files it cites
(benchmarks/render_docs.py); a figure that drifts from its results fails here."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import render_docs  # noqa: E402

CHECKED = ["README.md"]


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
