"""Install the zinc run's latest checkpoint as the bundled model `zinc`.

    python training/zinc/export.py [RUN_DIR]        # default training/zinc

The checkpoint may be mid-epoch (a CPU session ends before an epoch does), so this writes what an epoch end
would: weights and model.json from RUN_DIR/checkpoint, the model card (with training/zinc/card.md), and the
training-set hashes for novelty checks: the molecules of its own training data (RUN_DIR/prepared) together with
the 1,584,663 MOSES molecules the model it started from was trained on (molvae/models/moses/training_set.npy). The learned prior is fitted afterwards with
`molvae fit-prior` (see card.md).
"""
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from molvae.model import checkpoint  # noqa: E402
from molvae.train import data  # noqa: E402

run = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "training/zinc"
model, vocab, meta = checkpoint.load_model(run / "checkpoint")
ts, _ = data.TokenizedSet.load(run / "prepared")
base = ROOT / "molvae/models/moses"  # the MOSES model it started from
hashes = np.union1d(np.asarray(ts.hashes, dtype=np.uint64), checkpoint.load_training_set(base))
prov = dict(meta["provenance"])
prov["training_set_hashes"] = f"{len(ts.hashes)} molecules of {prov['data']} and the {base.name} model's training set"
card = (ROOT / "training/zinc/card.md").read_text().strip()
checkpoint.save_model(ROOT / "molvae/models/zinc", model, vocab, prov, meta["metrics"], name="zinc",
                      card_extra=card, training_hashes=hashes)
print(f"wrote molvae/models/zinc: {len(vocab)} tokens, {len(hashes)} training-set hashes,"
      f" {meta['metrics'].get('molecules_seen')} molecules seen in this run")
