#!/bin/bash
# Watch the sweep runs until LIMIT seconds of this command have passed, then copy their logs and metrics to $OUT
# and a weights-only snapshot of each run's latest exported model (split into 15 MB parts) as a fallback.
LIMIT=${1:-540}
RUNS=${RUNS:-/root/runs}
CONFIGS=${CONFIGS:-"b01 b025 b05"}
SNAP=${SNAP:-1}
while [ $SECONDS -lt $((LIMIT - 75)) ]; do
  left=$((LIMIT - 75 - SECONDS)); sleep $((left < 60 ? (left > 1 ? left : 1) : 60))
  echo "== $(date +%T) t=${SECONDS}s $(nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null)"
  for c in $CONFIGS; do echo "$c: $(tr '\r' '\n' < $RUNS/$c.log | grep -v '^\s*$' | tail -1 | cut -c1-160)"; done
done
for c in $CONFIGS; do grep -h "^epoch [0-9]*:" $RUNS/$c.log | cut -c1-400 | tail -3; done
if [ -n "$OUT" ]; then
  tar czf $OUT/logs.tgz -C $RUNS $(cd $RUNS && ls -d *.log */metrics.jsonl */config.json 2>/dev/null) 2>/dev/null
  if [ "$SNAP" = 1 ]; then
    tmp=$(mktemp -d)
    for c in $CONFIGS; do
      [ -f $RUNS/$c/model/model.safetensors ] && mkdir -p $tmp/$c && cp $RUNS/$c/model/model.json $RUNS/$c/model/model.safetensors $RUNS/$c/model/MODEL_CARD.md $tmp/$c/
    done
    tar cf - -C $tmp . | split -b 15M - $OUT/snapshot.tar.part-
    rm -rf $tmp
  fi
  ls -la $OUT
fi
