#!/bin/bash
# Device call 2: the BERT learning curve on CUDA (bf16 mixed precision, the first 128 and last 128
# tokens of each review: docs/results/textflix/README.md, head + tail), all 25,000 test reviews.
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
mkdir -p /tmp/assets/data /tmp/assets/models && cp .dev2/aclImdb_v1.tar.gz /tmp/assets/data/ && ln -sfn /tmp/m /tmp/assets/models/all-MiniLM-L6-v2
export TRANSFER_ASSETS=/tmp/assets
LIMIT=${1:-500}
start=$(date +%s)
run() { timeout $((LIMIT - ($(date +%s) - start))) /tmp/transfer textflix --device cuda --models bert \
  --sizes 10,100,500,1000,10000 --test-size 25000 --set bert.precision=bf16 --set bert.head_tail=true --quiet --out /tmp/curve "$@"; }
run --seeds 1 2>&1 | tee $OUT/curve.log
run --seeds 3 2>&1 | tee -a $OUT/curve.log
echo "wall $(( $(date +%s) - start )) s" | tee -a $OUT/curve.log
cp /tmp/curve/results.json /tmp/curve/results.md /tmp/curve/results.csv /tmp/curve/run.json $OUT/
