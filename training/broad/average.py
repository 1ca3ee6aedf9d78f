"""Average the weights of several models of one run (the same architecture and vocabulary), parameter by
parameter: a candidate for choose.py, scored on validation rows like any other.

    python training/broad/average.py OUT_DIR MODEL_DIR MODEL_DIR [...]

Averaging the weights of points late in a run at a low learning rate (Izmailov et al. 2018, "Averaging weights
leads to wider optima and better generalization", UAI) often generalizes better than any one of them. The
provenance and metrics of the last model given are kept, with the averaged models named.
"""
import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from molvae.model import checkpoint  # noqa: E402


def average(dirs: list[Path]):
    """(model with the mean of the models' weights, vocabulary, the last model's metadata)."""
    models = [checkpoint.load_model(d) for d in dirs]
    model, vocab, meta = models[-1]
    for _, v, _ in models:
        if v.tokens != vocab.tokens:
            raise SystemExit("the models have different vocabularies")
    states = [m.state_dict() for m, _, _ in models]
    mean = {k: sum(s[k].float() for s in states) / len(states) for k in states[0]}
    model.load_state_dict({k: mean[k].to(states[-1][k].dtype) for k in mean})
    return model, vocab, meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("models", nargs="+")
    a = ap.parse_args()
    dirs = [Path(d) for d in a.models]
    model, vocab, meta = average(dirs)
    prov = {**meta["provenance"], "averaged": [str(d) for d in dirs]}
    with torch.no_grad():
        checkpoint.save_model(Path(a.out), model, vocab, prov, meta["metrics"], name=meta.get("name", "molvae"))
    print(f"wrote {a.out}: the mean of {len(dirs)} models' weights")


if __name__ == "__main__":
    main()
