"""Execute every notebook here in place, so that it is committed with its outputs (tables and pictures show
on the repository page): python notebooks/run.py. The tests execute them again, without writing."""
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

for path in sorted(HERE.glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    nbformat.write(nb, path)
    print(f"executed {path.name}")
