#!/bin/bash
# Device call (after setup.sh, on the same warm machine; carry `.dev2` with the IMDB tarball):
# the whole learning curve of the GPU families — BERT (bf16, head + tail: the first 128 and last
# 128 tokens, chosen on held-out training reviews) and ULMFiT (its language model
# once, then the classifiers, and their NB-SVM ensemble) at 10 ... 10,000 with 3 seeds, all
# 25,000 test reviews — and its wall time. The CPU baselines (nbsvm, wvsum: 28 s on 2 cores)
# run here, not there: the GloVe file does not fit the same carry.
# Usage: bash .dev2/whole.sh [seconds]
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
mkdir -p /tmp/assets/data /tmp/assets/models && cp -n .dev2/aclImdb_v1.tar.gz /tmp/assets/data/ && ln -sfn /tmp/m /tmp/assets/models/all-MiniLM-L6-v2
export TRANSFER_ASSETS=/tmp/assets
LIMIT=${1:-540}
start=$(date +%s)
timeout $LIMIT /tmp/transfer textflix --device cuda --set bert.precision=bf16 --set bert.head_tail=true --models bert,ulmfit,ulmfit-nbsvm \
  --sizes 10,100,500,1000,10000 --seeds 3 --test-size 25000 --quiet --out /tmp/whole 2>&1 | tee $OUT/whole.log
echo "wall $(( $(date +%s) - start )) s" | tee -a $OUT/whole.log
cp /tmp/whole/results.* /tmp/whole/run.json $OUT/ 2>/dev/null
[ -f /tmp/whole/ulmfit-lm/report.json ] && cp /tmp/whole/ulmfit-lm/report.json $OUT/ulmfit-lm-report.json
true
