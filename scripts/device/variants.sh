#!/bin/bash
# Device call 3 (after speed.sh, on the same warm machine): the transfer variants on CUDA
# (bert-st, bert-mlm, ulmfit, ulmfit-nbsvm, ulmfit-nbsvm-st, ulmfit-st by default), 1 seed, all 25,000 test reviews; resumable within the
# machine's life. Usage: bash .dev2/variants.sh [seconds] [models] [sizes]
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
mkdir -p /tmp/assets/data /tmp/assets/models && cp -n .dev2/aclImdb_v1.tar.gz /tmp/assets/data/ && ln -sfn /tmp/m /tmp/assets/models/all-MiniLM-L6-v2
export TRANSFER_ASSETS=/tmp/assets
LIMIT=${1:-500}
MODELS=${2:-bert-st,bert-mlm,ulmfit,ulmfit-nbsvm,ulmfit-nbsvm-st,ulmfit-st}
SIZES=${3:-10,100,500,1000,10000}
start=$(date +%s)
timeout $LIMIT /tmp/transfer textflix --device cuda --models "$MODELS" --sizes "$SIZES" --seeds 1 \
  --test-size 25000 --set bert.precision=bf16 --quiet --out /tmp/variants 2>&1 | tee -a $OUT/variants.log
echo "wall $(( $(date +%s) - start )) s" | tee -a $OUT/variants.log
cp /tmp/variants/results.* /tmp/variants/run.json $OUT/ 2>/dev/null
for d in ulmfit-lm bert-mlm; do [ -f /tmp/variants/$d/report.json ] && cp /tmp/variants/$d/report.json $OUT/$d-report.json; done
true
