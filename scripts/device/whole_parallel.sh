#!/bin/bash
# The whole curve of whole.sh (BERT bf16 head + tail, ULMFiT and ULMFiT + NB-SVM, sizes 10 ...
# 10,000, 3 seeds, all 25,000 test reviews) as three processes sharing the one GPU, so that
# one's kernels fill the gaps another's host leaves (alone, a MiniLM step at batch 16 does not
# keep an H200 busy; whole.sh took about 15 minutes on 2026-11-28):
#   1. BERT at 10,000;
#   2. ULMFiT's language model, then ULMFiT and its ensemble at 10,000;
#   3. BERT below 10,000, then (with 2's language model, once saved) ULMFiT and its ensemble
#      below 10,000.
# Then their results.json are merged and the runner, resumed on the merge with nothing left
# to run, writes the tables. Each cell is seeded as in one process, but cells sharing a GPU
# draw dropout from libtorch's per-process generator in their own process: accuracies match
# a single-process run's in distribution, not digit for digit.
# After setup.sh (carry `.dev`), at once, with carry `.dev2` (the IMDB tarball and this script):
#   bash .dev2/whole_parallel.sh [seconds]
# (A dry run on a CPU: T=target/release/transfer OUT=/tmp/out SMALL=10 LARGE=100 ASSETS=$TRANSFER_ASSETS
#  ARGS="--device tch --quick --seeds 1 --test-size 200 --set ulmfit.lm_tokens=50000" bash scripts/device/whole_parallel.sh 900)
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
if [ -z "$ASSETS" ]; then
  mkdir -p /tmp/assets/data /tmp/assets/models && cp -n .dev2/aclImdb_v1.tar.gz /tmp/assets/data/ 2>/dev/null
  ln -sfn /tmp/m /tmp/assets/models/all-MiniLM-L6-v2
fi
export TRANSFER_ASSETS=${ASSETS:-/tmp/assets}
T=${T:-/tmp/transfer}
ARGS=${ARGS:---device cuda --set bert.precision=bf16 --set bert.head_tail=true --seeds 3 --test-size 25000}
small=${SMALL:-10,100,500,1000}
large=${LARGE:-10000}
LIMIT=${1:-540}
start=$(date +%s)
left() { local l=$((LIMIT - ($(date +%s) - start))); [ $l -lt 1 ] && l=1; echo $l; }
tf() { timeout $(left) $T textflix $ARGS --quiet "$@"; }
rm -rf /tmp/p1 /tmp/p2 /tmp/p3 /tmp/whole
tf --models bert --sizes $large --out /tmp/p1 > /tmp/p1.log 2>&1 &
tf --models ulmfit,ulmfit-nbsvm --sizes $large --out /tmp/p2 > /tmp/p2.log 2>&1 &
(
  tf --models bert --sizes $small --out /tmp/p3
  while [ ! -f /tmp/p2/ulmfit-lm/report.json ] && [ $(left) -gt 1 ]; do sleep 2; done
  cp -r /tmp/p2/ulmfit-lm /tmp/p3/
  tf --models ulmfit,ulmfit-nbsvm --sizes $small --out /tmp/p3
) > /tmp/p3.log 2>&1 &
wait
echo "three processes: $(( $(date +%s) - start )) s" > $OUT/whole.log
for p in 1 2 3; do echo "--- process $p" >> $OUT/whole.log; cat /tmp/p$p.log >> $OUT/whole.log; done
mkdir -p /tmp/whole && python3 - <<'PY'
import json, os
cells = []
for p in ("/tmp/p1", "/tmp/p2", "/tmp/p3"):
    path = os.path.join(p, "results.json")
    if os.path.exists(path):
        cells += json.load(open(path))
json.dump(cells, open("/tmp/whole/results.json", "w"), indent=2)
print(len(cells), "cells merged")
PY
tf --models bert,ulmfit,ulmfit-nbsvm --sizes $small,$large --out /tmp/whole 2>&1 | tail -2 >> $OUT/whole.log
echo "wall $(( $(date +%s) - start )) s" | tee -a $OUT/whole.log
cat $OUT/whole.log | grep -v "^ *\(bert\|ulmfit\)" | tail -20
cp /tmp/whole/results.* /tmp/whole/run.json $OUT/ 2>/dev/null
[ -f /tmp/p2/ulmfit-lm/report.json ] && cp /tmp/p2/ulmfit-lm/report.json $OUT/ulmfit-lm-report.json
true
