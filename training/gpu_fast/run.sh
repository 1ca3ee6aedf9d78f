#!/bin/bash
# One device call trains the fast-decoder runs: install the carried wheels, encode the labelled MOSES train split
# once on all cores, train the runs side by side on the GPU with a wall-clock budget that ends PACK seconds before
# LIMIT, then pack each run's checkpoint (weights, optimizer, state), config, metrics and log into $OUT as 15 MB
# parts (tar, split).  Usage: bash training/gpu_fast/run.sh LIMIT
LIMIT=${1:-560}
RUNS=${RUNS:-/root/runs}
DATA=${DATA:-data/moses_train_labelled.csv.gz}
CONFIGS=${CONFIGS:-"f030 f040"}
PROPS=${PROPS:-qed,logp,sa,plogp,tpsa,mw}
PACK=${PACK:-70}
export PYTHONUNBUFFERED=1
if [ -d .whl ] && [ -z "$NOWHL" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null
python3 -c "import torch, rdkit, selfies; print('torch', torch.__version__, 'rdkit', rdkit.__version__, 'selfies', selfies.__version__, 'cuda', torch.cuda.is_available())" || exit 1
mkdir -p $RUNS
first=$(echo $CONFIGS | cut -d' ' -f1)
python3 -m molvae prepare --data $DATA --out $RUNS/$first --properties $PROPS --workers $(nproc) 2>&1 | grep -v "encode:" | tail -4
[ -f $RUNS/$first/prepared/meta.json ] || { echo "prepare failed"; exit 1; }
echo "prepared at t=${SECONDS}s"
mins=$(python3 -c "print(round(max(0.5, ($LIMIT - $SECONDS - $PACK) / 60), 2))")
for c in $CONFIGS; do
  [ $c = $first ] || { mkdir -p $RUNS/$c && cp -r $RUNS/$first/prepared $RUNS/$c/; }
  setsid nohup python3 -m molvae train --config training/gpu_fast/$c.toml --data $DATA --out $RUNS/$c \
    --max-minutes $mins ${TRAIN_ARGS} > $RUNS/$c.log 2>&1 < /dev/null &
  echo "started $c for $mins minutes"
done
sleep 5
while pgrep -f "molvae train" > /dev/null && [ $SECONDS -lt $((LIMIT - 25)) ]; do
  sleep 30
  echo "== t=${SECONDS}s $(nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null)"
  for c in $CONFIGS; do echo "$c: $(tr '\r' '\n' < $RUNS/$c.log | grep -v '^\s*$' | tail -1 | cut -c1-200)"; done
done
pkill -TERM -f "molvae train"; for i in $(seq 10); do pgrep -f "molvae train" > /dev/null || break; sleep 1; done
for c in $CONFIGS; do echo "== $c"; grep -h "^epoch [0-9]*:\|budget\|rror" $RUNS/$c.log | cut -c1-600 | tail -12; done
rm -rf /tmp/pack && mkdir -p /tmp/pack
for c in $CONFIGS; do
  mkdir -p /tmp/pack/$c && cp -r $RUNS/$c/checkpoint $RUNS/$c/config.json $RUNS/$c/metrics.jsonl $RUNS/$c.log /tmp/pack/$c/ 2>/dev/null
done
if [ -n "$OUT" ]; then tar cf - -C /tmp/pack . | split -b 15M - $OUT/pack.tar.part-; ls -la $OUT; fi
