#!/bin/bash
# One device call (about 5 minutes): where a fine-tuning step's time goes on CUDA, ours against
# PyTorch's, and the speed harness with linear layers, LayerNorm and dropout on our own backward
# (PyTorch's kernels called directly) on every device.
#   1. setup.sh: model and binary into /tmp;
#   2. `transfer speed`, back to back, fp32 and bf16: everything on (default); the query, key
#      and value projections as three products (TRANSFER_FUSED=unpacked); linear layers and
#      LayerNorm down libtorch's autograd engine and burn's dropout (TRANSFER_FUSED=autograd,
#      the routes of the 2026-11-28 H200 run); each step's loss read one step late
#      (TRANSFER_READ_EVERY=1, the H200 run's loop: the device idles while the host builds
#      each step);
#   3. the speed harness against PyTorch (scripts/speed_harness.py);
#   4. a Chrome trace of ours (scripts/profile/torch_trace.cpp, LD_PRELOAD) and of PyTorch's step
#      (scripts/profile/pytorch_step_trace.py), fp32 and bf16, summarised per step by
#      scripts/profile/trace_ops.py: kernels, GPU busy time, CUDA runtime calls (waits), the
#      heaviest kernels;
#   5. the LSTM's unit tests on CUDA with their messages.
# At most 8 files come back: gpu.txt, ab.jsonl, speed.log, speed_gpu.json, trace_summary.txt,
# unit_cuda.log, traces.tar.gz. Carry `.dev` prepared as scripts/device/README.md says
# (section "Tracing a step"), with torch_trace.so in it.
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
PY=/opt/torch/.venv/bin/python3
bash .dev/setup.sh || exit 1
T=/tmp/transfer
M="$(nvidia-smi --query-gpu=name --format=csv,noheader) (1 GPU, $(nproc) cores)"
speed() {  # precision, then env assignments
  local p=$1; shift
  env "$@" timeout 60 $T speed --model /tmp/m --device cuda --precision $p --seq 256 --batch-size 32 \
    --train-steps 20 --warmup 5 --infer-batch-size 256 --infer-batches 5 2>/dev/null | tail -1
}
for p in f32 bf16; do
  for f in 1 unpacked autograd; do
    echo "{\"fused\": \"$f\", \"precision\": \"$p\", \"result\": $(speed $p TRANSFER_FUSED=$f)}" | tee -a $OUT/ab.jsonl
  done
  # Each step's loss read one step late (a wait for the step just queued), as until 2026-11-28.
  echo "{\"read_every\": 1, \"precision\": \"$p\", \"result\": $(speed $p TRANSFER_READ_EVERY=1)}" | tee -a $OUT/ab.jsonl
done
timeout 200 $PY scripts/speed_harness.py --transfer $T --model /tmp/m --reference .dev/reference \
  --python $PY --device cuda --machine "$M" --out $OUT/speed_gpu.json 2>&1 | grep -v Warning | tee $OUT/speed.log

mkdir -p /tmp/traces
for p in f32 bf16; do
  # LD_PRELOAD after `timeout`: a preloaded `timeout` would write its own, empty trace last.
  timeout 90 env TORCH_TRACE_OUT=/tmp/traces/ours_$p.json TORCH_TRACE_CUDA=1 \
    LD_PRELOAD=$PWD/.dev/torch_trace.so $T speed --model /tmp/m --device cuda --precision $p --seq 256 --batch-size 32 \
    --train-steps 8 --warmup 3 --infer-batch-size 32 --infer-batches 1 2>&1 | tail -2
  flag=""; [ $p = bf16 ] && flag="--bf16"
  timeout 90 $PY scripts/profile/pytorch_step_trace.py /tmp/m /tmp/traces/pytorch_$p.json $flag 2>&1 | grep -v -i warn | tail -2
  for who in ours pytorch; do
    # ours: 3 warm-up steps, then the timed optimizer's first step: the window starts after them
    args=(--marker 'aten::_fused_adamw_' --skip 4)
    [ $who = pytorch ] && args=(--marker '^step$' --skip 1)
    echo "=== $who $p" >> $OUT/trace_summary.txt
    timeout 60 $PY scripts/profile/trace_ops.py /tmp/traces/${who}_$p.json "${args[@]}" \
      >> $OUT/trace_summary.txt 2>&1
  done
done
cat $OUT/trace_summary.txt | head -150
(cd /tmp/traces && tar czf $OUT/traces.tar.gz *.json) && ls -la $OUT/traces.tar.gz
[ $(stat -c %s $OUT/traces.tar.gz) -gt 16000000 ] && rm $OUT/traces.tar.gz

$PY -c "import lzma, shutil; shutil.copyfileobj(lzma.open('.dev/contextual_tests.xz'), open('/tmp/contextual_tests', 'wb'))" &&
  chmod +x /tmp/contextual_tests &&
  TRANSFER_TEST_CUDA=1 timeout 60 /tmp/contextual_tests lstm::tests > $OUT/unit_cuda.log 2>&1
grep -E "test result|FAILED|panicked|difference" $OUT/unit_cuda.log
true
