"""Keep the campaign's latest weights in the repository, so a later run on a fresh machine can go on from them.

    python training/broad/keep.py [RUN_DIR] [--logs runN]   # RUN_DIR: default $MOLVAE_CAMPAIGN or /work/campaign/broad

Writes training/broad/weights/ (model.json, model.safetensors, MODEL_CARD.md): the checkpoint's weights with its
parameters stored as float16 (half the size; buffers such as the property head's scaling stay float32), without
optimizer state. A run that starts from them (`init_from = "training/broad/weights"` in campaign.toml) begins
with a fresh optimizer. --logs runN also copies the run's record (metrics.jsonl, train.log, config.json,
training_curves.png) into training/broad/runN/, since every fresh run starts its own record.
"""
import argparse
import os
import shutil
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from molvae.model import checkpoint  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("run", nargs="?", default=os.environ.get("MOLVAE_CAMPAIGN", "/work/campaign/broad"))
ap.add_argument("--logs", default=None, help="copy the run's record into training/broad/LOGS/")
a = ap.parse_args()
run = Path(a.run)
model, vocab, meta = checkpoint.load_model(run / "checkpoint")
with torch.no_grad():
    for p in model.parameters():
        p.data = p.data.half()
checkpoint.save_model(ROOT / "training/broad/weights", model, vocab, meta["provenance"], meta["metrics"],
                      name="broad (campaign, in progress)")
print(f"kept {run / 'checkpoint'} in training/broad/weights: {meta['metrics'].get('molecules_seen')} molecules seen")
if a.logs:
    dest = ROOT / "training/broad" / a.logs
    dest.mkdir(exist_ok=True)
    for name in ("metrics.jsonl", "train.log", "config.json", "training_curves.png"):
        if (run / name).exists():
            shutil.copy2(run / name, dest / name)
    print(f"copied the run's record into {dest}")
