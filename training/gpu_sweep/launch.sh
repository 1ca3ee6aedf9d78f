#!/bin/bash
# First device call of the GPU sweep: install the carried wheels, smoke-test, prepare the full MOSES train split
# once, start the sweep runs in their own sessions (they outlive this command while the machine stays warm),
# and watch them until LIMIT seconds have passed.  Usage: bash training/gpu_sweep/launch.sh LIMIT
LIMIT=${1:-540}
RUNS=${RUNS:-/root/runs}
DATA=${DATA:-data/moses_train_full.csv.gz}
CONFIGS=${CONFIGS:-"b01 b025 b05"}
export PYTHONUNBUFFERED=1
if [ -d .whl ] && [ -z "$NOWHL" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, rdkit, selfies; print('torch', torch.__version__, 'rdkit', rdkit.__version__, 'selfies', selfies.__version__)" || exit 1
AMP=""
timeout 120 python3 training/gpu_sweep/smoke.py || { echo "smoke failed under autocast: training without amp"; AMP="--no-amp"; }
mkdir -p $RUNS
first=$(echo $CONFIGS | cut -d' ' -f1)
python3 -m molvae prepare --data $DATA --out $RUNS/$first --workers $(nproc) 2>&1 | tail -3 || exit 1
for c in $CONFIGS; do
  [ $c = $first ] || { mkdir -p $RUNS/$c && cp -r $RUNS/$first/prepared $RUNS/$c/; }
  setsid nohup python3 -m molvae train --config training/gpu_sweep/$c.toml --data $DATA --out $RUNS/$c $AMP \
    > $RUNS/$c.log 2>&1 < /dev/null &
  echo "started $c (pid $!)"
done
echo "$PYTHONPATH" > $RUNS/pythonpath
bash training/gpu_sweep/watch.sh $((LIMIT - SECONDS))  # what is left of this command's limit
