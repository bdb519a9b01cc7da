#!/bin/bash
# Device call 2 (after setup.sh, on the same warm machine): bert-nbsvm-st and bert-nbsvm on
# CUDA, all 25,000 test reviews, scores centred, a pool of 25,000 unlabelled reviews with
# 5,000 kept per class: n = 100 with 3 seeds first (with bert-nbsvm-cotrain, not yet timed on a GPU),
# then 10, 500 and 1,000 in the time left.
# Usage: bash .dev2/ensemble.sh [seconds [textflix flags...]], e.g. `bash .dev2/ensemble.sh 400
# --set bert.head_tail=true` (the first 128 and last 128 tokens of a review, as the 2026-11-28 BERT curve).
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
mkdir -p /tmp/assets/data /tmp/assets/models && cp -n .dev2/aclImdb_v1.tar.gz /tmp/assets/data/ && ln -sfn /tmp/m /tmp/assets/models/all-MiniLM-L6-v2
export TRANSFER_ASSETS=/tmp/assets
LIMIT=${1:-500}
EXTRA=("${@:2}")
start=$(date +%s)
left() { echo $((LIMIT - ($(date +%s) - start))); }
run() { timeout $(left) /tmp/transfer textflix --device cuda --set bert.precision=bf16 --test-size 25000 \
  --set self_training.unlabelled=25000 --set self_training.per_class=5000 --set centre_scores=true --quiet --out /tmp/ensemble "${EXTRA[@]}" "$@" 2>&1 \
  | tee -a $OUT/ensemble.log; }
run --models bert-nbsvm-st,bert-nbsvm,bert-nbsvm-cotrain --transfer-sizes 100 --transfer-seeds 3
run --models bert-nbsvm-st --transfer-sizes 10,500,1000 --transfer-seeds 3
echo "wall $(( $(date +%s) - start )) s" | tee -a $OUT/ensemble.log
cp /tmp/ensemble/results.* /tmp/ensemble/run.json $OUT/ 2>/dev/null
true
