#!/bin/bash
# The libtorch unit tests on CUDA device 0 (TRANSFER_TEST_CUDA=1): the fused ops and AdamW
# (transfer-kernels: values and every input's gradient against burn's own ops, libtorch's
# fused AdamW against burn's) and the LSTM (transfer-contextual: cuDNN's against burn's steps).
# Carry `.dev-tests` from prepare.sh (the two test binaries, xz: a few MB); writes
# $OUT/cuda_tests.log (commit it under docs/results/) and exits non-zero when any test fails or a
# binary is missing.
#   bash scripts/device/cuda_tests.sh
set -uo pipefail
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
PY=/opt/torch/.venv/bin/python3
log=${OUT:-/tmp}/cuda_tests.log
: > "$log"
status=0
for crate in kernels contextual; do
  bin=/tmp/${crate}_tests
  src=.dev-tests/${crate}_tests.xz; [ -f "$src" ] || src=.dev/${crate}_tests.xz
  $PY -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], 'wb'))" \
    "$src" "$bin" && chmod +x "$bin" || { echo "FAIL: no $src" | tee -a "$log"; exit 1; }
  echo "== $crate ($(date -u +%FT%TZ), $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1))" >> "$log"
  TRANSFER_TEST_CUDA=1 timeout 300 "$bin" --test-threads=1 >> "$log" 2>&1 || status=1
done
grep -E "^== |test result|FAILED|panicked|difference" "$log"
[ $status = 0 ] && echo "CUDA tests: all passed" || echo "CUDA tests: FAILED (see $log)"
exit $status
