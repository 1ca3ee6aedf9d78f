"""Install a fast-decoder run as the bundled model `fast` and keep what resuming it needs.

    python training/gpu_fast/export.py RUN_DIR [NAME]

RUN_DIR is a run unpacked from run.sh's $OUT parts (checkpoint/, config.json, metrics.jsonl, NAME.log). Writes
molvae/models/fast (weights, model.json with the model card text of training/gpu_fast/card.md, and the training
set's hashes, which are those of the default model: the same 1,584,663 MOSES train molecules) and
training/fast/ (checkpoint with optimizer state, config, metrics, log, curves) for
`molvae train --config training/gpu_fast/f040.toml --data data/moses_train_labelled.csv.gz --out training/fast --resume`.
"""
import json
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from molvae.model import checkpoint  # noqa: E402
from molvae.train import read_metrics  # noqa: E402
from molvae.io.plots import training_curves  # noqa: E402

run = Path(sys.argv[1])
name = run.name if len(sys.argv) < 3 else sys.argv[2]
model, vocab, meta = checkpoint.load_model(run / "checkpoint")
hashes = np.load(ROOT / "molvae/models/moses/training_set.npy")
if len(hashes) != meta["provenance"]["data_rows_used"]:
    sys.exit("the moses model's training set does not have this run's row count")
prov = dict(meta["provenance"])
log = (run / f"{name}.log").read_text()
prov["command"] = (f"molvae train --config training/gpu_fast/{name}.toml --data data/moses_train_labelled.csv.gz"
                   f" --out training/fast (on 1 x NVIDIA H200: training/gpu_fast/run.sh with --max-minutes 6.15,"
                   f" then --resume --max-minutes 3.2; {meta['metrics']['train_minutes']} GPU-minutes)")
card = (ROOT / "training/gpu_fast/card.md").read_text().strip()
checkpoint.save_model(ROOT / "molvae/models/fast", model, vocab, prov, meta["metrics"], name="fast",
                      card_extra=card, training_hashes=hashes)
dest = ROOT / "training/fast"
shutil.rmtree(dest, ignore_errors=True)
shutil.copytree(run / "checkpoint", dest / "checkpoint")
ck = json.loads((dest / "checkpoint/model.json").read_text())
ck["provenance"]["command"] = prov["command"]
(dest / "checkpoint/model.json").write_text(json.dumps(ck, indent=2) + "\n")
cfg = json.loads((run / "config.json").read_text())
cfg.update(out="training/fast", max_minutes=0.0)
(dest / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
shutil.copy(run / "metrics.jsonl", dest / "metrics.jsonl")
(dest / "train.log").write_text(log)
training_curves(read_metrics(dest / "metrics.jsonl"), dest / "training_curves.png")
print(f"wrote molvae/models/fast and {dest}")
