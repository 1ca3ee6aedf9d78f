"""Ship the broad model: write molvae/models/broad from the weights choose.py picked.

    python training/broad/export.py MODEL_DIR [--run RUN_DIR]   # RUN_DIR: the campaign run whose prepared data it read

Writes molvae/models/broad/: the weights in float16 (half of float32's 20 MB; molvae loads them into float32,
and every figure of the model is measured on these shipped weights), model.json and MODEL_CARD.md (with
training/broad/card.md), and training_set.npy, the hashes of the molecules of its training rows (the run's
prepared data without its validation rows). The campaign began from the MOSES model, so model.json names `moses`
in `training_set_shared_with`: novelty is judged against both training sets. The learned prior is fitted after
this (`molvae fit-prior`, see card.md).
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from molvae.io.atomic import write_json  # noqa: E402
from molvae.model import checkpoint  # noqa: E402
from molvae.train import data  # noqa: E402

DEST = ROOT / "molvae/models/broad"


def train_hashes(run: Path) -> np.ndarray:
    """The hashes of the run's training rows (the prepared data's rows not marked valid)."""
    ts, _ = data.TokenizedSet.load(run / "prepared")
    hashes = np.asarray(ts.hashes, dtype=np.uint64)
    return hashes if ts.valid is None else hashes[~np.asarray(ts.valid, dtype=bool)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="the chosen weights (a model or checkpoint directory)")
    ap.add_argument("--run", default="/work/campaign/run6", help="the campaign run (its prepared data)")
    ap.add_argument("--dest", default=str(DEST), help="where to write it (a folder named broad beside a `moses` one)")
    a = ap.parse_args()
    model, vocab, meta = checkpoint.load_model(Path(a.model))
    with torch.no_grad():
        for p in model.parameters():
            p.data = p.data.half()
    hashes = train_hashes(Path(a.run))
    prov = {**meta["provenance"], "training_set_hashes": f"{len(hashes)} training rows of {meta['provenance']['data']}"
            " (with the moses model's, named in training_set_shared_with)"}
    card = (ROOT / "training/broad/card.md").read_text().strip()
    dest = Path(a.dest)
    checkpoint.save_model(dest, model, vocab, prov, meta["metrics"], name="broad", card_extra=card,
                          training_hashes=hashes)
    _, written = checkpoint.read_meta(dest)
    write_json(dest / "model.json", {**written, "training_set_shared_with": "moses"}, fsync=True)
    print(f"wrote {dest}: {len(vocab)} tokens, {len(hashes)} training-set hashes of its own")


if __name__ == "__main__":
    main()
