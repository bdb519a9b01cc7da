#!/bin/bash
# One device call (about 5 minutes): the fused ops and the fused AdamW on CUDA.
#   1. setup.sh: model and binary into /tmp, a CUDA-vs-CPU check of the embeddings;
#   2. the unit tests on CUDA: the ops (values and every input's gradient against burn's own
#      ops), the LSTM (cuDNN's against burn's steps) and AdamW (libtorch's fused kernel against
#      burn's AdamW);
#   3. the same fine-tuning (200 reviews, 3 epochs, 128 tokens) and evaluation (1,000 reviews)
#      with burn's own ops and AdamW (TRANSFER_FUSED=0) and with the fused ones: losses should
#      agree; the same for an LSTM classifier (burn's steps against one cuDNN call per layer);
#   4. ours interleaved, fp32 and bf16 (`transfer speed`): burn's ops and AdamW (0), the fused
#      ops with burn's AdamW (ops, first round only), everything fused (1);
#   5. the speed harness against PyTorch (everything fused);
#   6. host time per step on a BERT too small to compute (scripts/host_overhead.py): whether
#      the host or the GPU bounds a step, ours against PyTorch's.
# Carry `.dev` prepared as scripts/device/README.md says (section "Fused ops on CUDA").
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
PY=/opt/torch/.venv/bin/python3
bash .dev/setup.sh || exit 1
T=/tmp/transfer

bash scripts/device/cuda_tests.sh  # every kernels and contextual unit test on CUDA; $OUT/cuda_tests.log

for f in 0 1; do
  TRANSFER_FUSED=$f $T train --data .dev/data/train.jsonl --arch bert --pretrained /tmp/m \
    --max-length 128 --epochs 3 --batch-size 16 --lr 5e-5 --device cuda --seed 1 \
    --out /tmp/ft$f 2>/dev/null | tee $OUT/train_fused$f.json
  TRANSFER_FUSED=$f $T evaluate --model /tmp/ft$f --data .dev/data/test.jsonl --device cuda \
    2>/dev/null | tee $OUT/evaluate_fused$f.json
done

# The LSTM as cuDNN's (1) against burn's steps (0): a classifier, then ULMFiT's pieces at small scale.
for f in 0 1; do
  TRANSFER_FUSED=$f $T train --data .dev/data/train.jsonl --arch lstm --max-length 256 --epochs 3 \
    --device cuda --seed 1 --out /tmp/lstm$f 2>$OUT/lstm_fused$f.err | tee $OUT/lstm_fused$f.json
done
# cuDNN warns at every call whose weights it must compact: 0 if our flat buffer is accepted.
echo "cuDNN compaction warnings: $(grep -c 'contiguous chunk' $OUT/lstm_fused1.err)" | tee -a $OUT/unit_cuda.log

for round in 1 2; do
  for p in f32 bf16; do
    settings="0 1"; [ $round = 1 ] && settings="0 ops 1"
    for f in $settings; do
      echo -n "{\"fused\": \"$f\", \"round\": $round, \"result\": " >> $OUT/fused_ab.jsonl
      TRANSFER_FUSED=$f $T speed --model /tmp/m --device cuda --precision $p --seq 256 \
        --batch-size 32 --train-steps 30 --warmup 5 --infer-batch-size 256 --infer-batches 10 \
        2>/dev/null | tail -1 | tr -d '\n' >> $OUT/fused_ab.jsonl
      echo "}" >> $OUT/fused_ab.jsonl
    done
  done
done
cat $OUT/fused_ab.jsonl

$PY scripts/speed_harness.py --transfer $T --model /tmp/m --reference .dev/reference \
  --python $PY --device cuda --machine "$(nvidia-smi --query-gpu=name --format=csv,noheader) (1 GPU, $(nproc) cores)" \
  --out $OUT/speed_gpu.json 2>&1 | grep -v Warning | tee $OUT/speed.log

$PY scripts/host_overhead.py --transfer $T --model /tmp/m --python $PY --device cuda --rounds 2 \
  --machine "$(nvidia-smi --query-gpu=name --format=csv,noheader)" --out $OUT/speed_gpu.json \
  2>&1 | tail -3 | tee $OUT/host_overhead.log
