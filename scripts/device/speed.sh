#!/bin/bash
# Device call 1: the model (fp16 copy → fp32), a CUDA-vs-CPU check, the speed harness.
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
PY=/opt/torch/.venv/bin/python3
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee $OUT/gpu.txt
nproc
rm -rf /tmp/m && mkdir /tmp/m && cp .dev/model/*.json .dev/model/vocab.txt /tmp/m/ && $PY .dev/cast_floats.py .dev/model/model.fp16.safetensors /tmp/m/model.safetensors float32 || exit 1
$PY -c "import lzma, shutil; shutil.copyfileobj(lzma.open('.dev/transfer.xz'), open('/tmp/transfer', 'wb'))" && chmod +x /tmp/transfer
ldd /tmp/transfer | grep "not found"
T1="A wonderful, moving film."
T2="I did not expect much from this movie, but the acting was superb, the script was sharp and the ending left the whole audience in tears. One of the best films of the year, without a doubt."
/tmp/transfer embed --model /tmp/m --device cuda "$T1" "$T2" > $OUT/embed_cuda.jsonl || echo "EMBED CUDA FAILED"
/tmp/transfer embed --model /tmp/m --device tch "$T1" "$T2" > $OUT/embed_cpu.jsonl || echo "EMBED CPU FAILED"
$PY - <<'PYEOF'
import json, os
o = os.environ["OUT"]
a = [json.loads(l)["embedding"] for l in open(f"{o}/embed_cuda.jsonl")]
b = [json.loads(l)["embedding"] for l in open(f"{o}/embed_cpu.jsonl")]
print("cuda vs cpu max abs diff:", max(abs(x - y) for u, v in zip(a, b) for x, y in zip(u, v)))
PYEOF
$PY scripts/speed_harness.py --transfer /tmp/transfer --model /tmp/m --reference .dev/reference \
  --python $PY --device cuda --machine "$(nvidia-smi --query-gpu=name --format=csv,noheader) (1 GPU, $(nproc) cores)" \
  --out $OUT/speed_gpu.json 2>&1 | grep -v Warning | tee $OUT/speed.log
