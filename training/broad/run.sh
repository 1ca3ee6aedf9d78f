#!/usr/bin/env bash
# One run of the broad-model campaign: train for MINUTES (default 150), then stop cleanly with a checkpoint.
# The run lives outside the repository ($MOLVAE_CAMPAIGN, default /work/campaign/broad) and is resumed when a
# checkpoint is there. THREADS (default 1) is the number of torch threads: 2 is about twice as fast on an
# otherwise idle 2-core machine, 1 keeps its speed when other work shares the cores (benchmarks/train_speed.py).
# LR, when set, overrides the config's Adam learning rate (run 7: 1e-5 after run 6's plateau at 3e-5). A resumed
# run keeps its own settings (its config.json, the learning rate included), so LR is needed only to change it.
# BETA, when set, overrides the config's KL weight the same way (run 9: 0.01, more information in z).
# CLIP, when set, is the gradient-norm clip of a new run (run 10: 1.0; the config's is 5.0).
# A new run starts from MOLVAE_INIT (a model or checkpoint directory) when given; otherwise from the kept
# weights (training/broad/weights), unpacked first when they are kept in 8 bits (training/broad/packed.py).
# Since run 6 the data is the broad file with neutral copies of its charged training molecules
# (data/make_neutral.py; built here when missing, about 7 minutes on 2 cores). DATA, when set, names another
# training file for a new run (run 8: data/make_long.py's, its long molecules repeated).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${MOLVAE_CAMPAIGN:-/work/campaign/broad}
data=${DATA:-data/zinc_moses_100k_neutral.csv.gz}
if [ ! -f "$data" ] && [ -z "${DATA:-}" ]; then
    [ -f data/zinc_moses_100k.csv.gz ] || python data/make_broad.py --moses data/moses_train_300k.csv.gz \
        --moses-rows 100000 -o data/zinc_moses_100k.csv.gz
    python data/make_neutral.py
fi
start=(--config training/broad/campaign.toml --data "$data")
if [ -f "$out/checkpoint/train_state.json" ]; then
    start=(--resume)  # without --config: the run's own config.json
elif [ -n "${MOLVAE_INIT:-}" ]; then
    start+=(--init-from "$MOLVAE_INIT")
elif [ -f training/broad/weights/model.int8.safetensors ]; then
    python training/broad/packed.py unpack training/broad/weights "$out.start"
    start+=(--init-from "$out.start")
fi
exec molvae train --out "$out" --max-minutes "${1:-150}" --threads "${THREADS:-1}" ${LR:+--lr "$LR"} ${BETA:+--beta "$BETA"} ${CLIP:+--grad-clip "$CLIP"} "${start[@]}"
