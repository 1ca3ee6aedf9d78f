#!/bin/bash
# Last device call of the GPU sweep: let the runs train until TRAIN seconds have passed, stop them (SIGTERM:
# each writes a checkpoint and exits), score every run with quick_eval.py, and pack the best run's full checkpoint
# (weights, optimizer, training state) with all logs and scorecards into $OUT, split into 15 MB parts.
TRAIN=${1:-120}
RUNS=${RUNS:-/root/runs}
CONFIGS=${CONFIGS:-"b01 b025 b05"}
export PYTHONUNBUFFERED=1 PYTHONPATH=$(cat $RUNS/pythonpath)
SNAP=0 OUT= bash training/gpu_sweep/watch.sh $((TRAIN + 75))
pkill -TERM -f "molvae train" ; for i in $(seq 60); do pgrep -f "molvae train" >/dev/null || break; sleep 2; done
for c in $CONFIGS; do tr '\r' '\n' < $RUNS/$c.log | grep -v '^\s*$' | tail -2; done
for c in $CONFIGS; do
  timeout 240 python3 training/gpu_sweep/quick_eval.py $RUNS/$c/checkpoint $RUNS/$c.eval.json ${EVAL_N:-10000} > $RUNS/$c.eval.log 2>&1 &
done
wait
for c in $CONFIGS; do echo "$c: $(tail -1 $RUNS/$c.eval.log)"; done
best=$(python3 training/gpu_sweep/pick.py $RUNS $CONFIGS)
echo "best: $best"
[ -n "$best" ] || { echo "no run could be scored"; best=$(echo $CONFIGS | cut -d" " -f1); }
python3 - <<PY
import time, torch, sys
sys.path.insert(0, ".")
from molvae.api import MolVAE
vae = MolVAE.load("$RUNS/$best/checkpoint", device="cuda")
for bs in (512, 2048, 8192):
    vae.batch_size = bs
    vae.sample(bs, seed=1, keep_invalid=True)
    t = time.time(); df = vae.sample(20000, seed=0, keep_invalid=True); torch.cuda.synchronize(); s = time.time() - t
    print(f"GPU sampling, batch {bs}: {20000 / s:.0f} molecules/s, {df.valid.sum() / s:.0f} valid/s")
PY
rm -rf /tmp/pack && mkdir -p /tmp/pack/$best && cp $RUNS/$best/checkpoint/* $RUNS/$best/config.json $RUNS/$best/metrics.jsonl /tmp/pack/$best/
cp $RUNS/*.eval.json $RUNS/*.log /tmp/pack/ 2>/dev/null
for c in $CONFIGS; do cp $RUNS/$c/metrics.jsonl /tmp/pack/$c.metrics.jsonl; done
tar cf - -C /tmp/pack . | split -b 15M - $OUT/pack.tar.part-
ls -la $OUT
