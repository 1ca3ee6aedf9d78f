#!/usr/bin/env bash
# One run of the broad-model campaign: train for MINUTES (default 150), then stop cleanly with a checkpoint.
# The run lives outside the repository ($MOLVAE_CAMPAIGN, default /work/campaign/broad) and is resumed when a
# checkpoint is there. THREADS (default 1) is the number of torch threads: 2 is about twice as fast on an
# otherwise idle 2-core machine, 1 keeps its speed when other work shares the cores (benchmarks/train_speed.py).
# On a fresh machine with no run yet, it starts from init_from in campaign.toml.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${MOLVAE_CAMPAIGN:-/work/campaign/broad}
resume=()
[ -f "$out/checkpoint/train_state.json" ] && resume=(--resume)
exec molvae train --config training/broad/campaign.toml --data data/zinc_moses_100k.csv.gz --out "$out" \
    --max-minutes "${1:-150}" --threads "${THREADS:-1}" "${resume[@]}"
