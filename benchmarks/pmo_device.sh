#!/bin/bash
# PMO runs on a lent multi-core machine (the device tool): install carried wheels if any, start
# benchmarks/pmo.py in the background (it writes one JSON per finished run and skips runs already there),
# wait up to LIMIT seconds, and copy the finished runs to $OUT. A second call with the same arguments
# (while the machine is warm) waits for the rest. Finished runs come back as $OUT/pmo_runs.tgz.  Usage:
#   MOLVAE_COMMIT=<git rev-parse HEAD here> LIMIT=540 JOBS="bo:15:qed,median1:1,2" bash benchmarks/pmo_device.sh
# JOBS: space-separated METHOD:PROCESSES:TASKS:SEEDS groups, run side by side. MOLVAE_COMMIT: the commit of the
# copied working tree, which has no .git there; each run's JSON records it (benchmarks/provenance.py).
LIMIT=${LIMIT:-540}
BUDGET=${BUDGET:-10000}
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 MOLVAE_COMMIT=${MOLVAE_COMMIT:-}
[ -n "$MOLVAE_COMMIT" ] || echo "MOLVAE_COMMIT is not set: the runs will record commit null"
if [ -d .whl ] && [ ! -d /tmp/site ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl || exit 1
fi
[ -d /tmp/site ] && export PYTHONPATH=/tmp/site
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
mkdir -p /tmp/pmo_logs
if [ ! -f /tmp/pmo_logs/started ]; then
  python3 -c "import torch, rdkit, selfies, botorch; print('torch', torch.__version__, 'rdkit', rdkit.__version__, 'botorch', botorch.__version__)" || exit 1
  nproc
  i=0
  for g in $JOBS; do
    IFS=: read -r method procs tasks seeds <<< "$g"
    i=$((i + 1))
    setsid nohup python3 benchmarks/pmo.py --methods $method --jobs $procs --tasks $tasks --seeds $seeds \
      --budget $BUDGET > /tmp/pmo_logs/$i-$method.log 2>&1 < /dev/null &
    echo "started $method ($procs processes): $tasks seeds $seeds"
  done
  touch /tmp/pmo_logs/started
fi
while [ $SECONDS -lt $LIMIT ] && pgrep -f benchmarks/pmo.py > /dev/null; do sleep 5; done
tail -n 30 /tmp/pmo_logs/*.log
tar czf $OUT/pmo_runs.tgz benchmarks/results/pmo/*__b${BUDGET}__*.json  # at most 8 files come back
tar tzf $OUT/pmo_runs.tgz | wc -l
pgrep -f benchmarks/pmo.py > /dev/null && echo "still running" || echo "all done"
