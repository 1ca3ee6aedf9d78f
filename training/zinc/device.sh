#!/bin/bash
# Stage 2 of the zinc model on a lent GPU machine (the device tool), resuming the committed checkpoint.
# Not yet run: no session has had a device machine since it was written.
#
# The working tree that travels to the device must be under 64 MiB, and this repository's is larger, so move
# what the run does not need out of the checkout first, and back afterwards (here, on this machine):
#   mkdir -p /tmp/aside && mv molvae/models molvae/reference training/default/checkpoint \
#       training/fast/checkpoint training/zinc/prepared /tmp/aside/  # keep the paths to move them back
# then call the device tool's run with
#   command: bash training/zinc/device.sh    carry: ["data/zinc_moses_100k.csv.gz"]    timeout_s: 560
# (data/zinc_moses_100k.csv.gz: see training/zinc/card.md). The run prepares the data with 16 processes,
# trains until MINUTES are up, and sends back the checkpoint, metrics and log in parts of at most 15 MB
# ($OUT/zinc.tgz.part-*; the device returns at most 8 files of 16 MiB). Here, afterwards:
#   cat <files_at>/zinc.tgz.part-* | tar xzf -      # restores training/zinc/{checkpoint,metrics.jsonl,...}
#   mv /tmp/aside/... back; python training/zinc/export.py; then fit-prior and the benchmarks (card.md)
# and record the run (device, minutes, batches, val figures) in training/zinc/card.md.
MINUTES=${MINUTES:-7}
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
python3 -c "import torch, rdkit, selfies; print('torch', torch.__version__, torch.cuda.get_device_name(0))" || exit 1
python3 -m molvae train --config training/zinc/finetune.toml --data data/zinc_moses_100k.csv.gz \
  --out training/zinc --resume --device cuda --threads 0 --workers 16 \
  --max-minutes "$MINUTES" --checkpoint-minutes 3 2>&1 | tail -n 40
tar czf - training/zinc/checkpoint training/zinc/metrics.jsonl training/zinc/training_curves.png \
  training/zinc/config.json | split -b 15M - "$OUT/zinc.tgz.part-"
ls -la "$OUT"
