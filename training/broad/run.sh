#!/usr/bin/env bash
# One run of the broad-model campaign: train for MINUTES (default 150), then stop cleanly with a checkpoint.
# The run lives outside the repository ($MOLVAE_CAMPAIGN, default /work/campaign/broad) and is resumed when a
# checkpoint is there. THREADS (default 1) is the number of torch threads: 2 is about twice as fast on an
# otherwise idle 2-core machine, 1 keeps its speed when other work shares the cores (benchmarks/train_speed.py).
# On a fresh machine with no run yet, it starts from the kept weights (training/broad/weights), unpacked first
# when they are kept in 8 bits (training/broad/packed.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${MOLVAE_CAMPAIGN:-/work/campaign/broad}
start=()
if [ -f "$out/checkpoint/train_state.json" ]; then
    start=(--resume)
elif [ -f training/broad/weights/model.int8.safetensors ]; then
    python training/broad/packed.py unpack training/broad/weights "$out.start"
    start=(--init-from "$out.start")
fi
exec molvae train --config training/broad/campaign.toml --data data/zinc_moses_100k.csv.gz --out "$out" \
    --max-minutes "${1:-150}" --threads "${THREADS:-1}" "${start[@]}"
