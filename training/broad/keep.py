"""Keep the campaign's latest weights in the repository, so a later run on a fresh machine can go on from them.

    python training/broad/keep.py [RUN_DIR] [--int8] [--logs runN]   # RUN_DIR: default $MOLVAE_CAMPAIGN or /work/campaign/broad

Writes training/broad/weights/ (model.json, MODEL_CARD.md and the weights), without optimizer state: with
--int8 as training/broad/packed.py's 8-bit rows (model.int8.safetensors, a quarter of float32; run.sh unpacks
them), otherwise as model.safetensors with the parameters in float16 (buffers such as the property head's
scaling stay float32). A run that starts from them begins with a fresh optimizer. --logs runN also copies the run's record (metrics.jsonl, train.log, config.json,
training_curves.png) into training/broad/runN/, since every fresh run starts its own record.
"""
import argparse
import os
import shutil
import sys
from pathlib import Path

import tempfile

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from molvae.model import checkpoint  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("run", nargs="?", default=os.environ.get("MOLVAE_CAMPAIGN", "/work/campaign/broad"))
ap.add_argument("--logs", default=None, help="copy the run's record into training/broad/LOGS/")
ap.add_argument("--int8", action="store_true", help="8-bit rows with a scale each (training/broad/packed.py)")
a = ap.parse_args()
run = Path(a.run)
model, vocab, meta = checkpoint.load_model(run / "checkpoint")
if a.int8:
    sys.path.insert(0, str(ROOT / "training" / "broad"))
    from packed import write_packed  # noqa: E402

    with tempfile.TemporaryDirectory() as tmp:
        checkpoint.save_model(Path(tmp) / "m", model, vocab, meta["provenance"], meta["metrics"],
                              name="broad (campaign, in progress; 8-bit rows)")
        write_packed(Path(tmp) / "m", ROOT / "training/broad/weights")
else:
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
