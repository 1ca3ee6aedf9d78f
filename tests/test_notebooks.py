"""The notebooks run top to bottom against the bundled model, in a real kernel (nbclient), so they never rot;
they are committed with their outputs (python notebooks/run.py), so their pictures show on the repository page."""
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(HERE.glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_is_committed_with_its_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[-1].get("outputs"), f"{path.name}: run python notebooks/run.py and commit the outputs"
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs), f"{path.name}: no picture"
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
