#!/bin/bash
# Device call 1 (short): the model (fp16 copy -> fp32) and the binary into /tmp, and a
# CUDA-vs-CPU check of the embeddings. The next call must follow within the machine's 30 s.
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
PY=/opt/torch/.venv/bin/python3
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee $OUT/gpu.txt
rm -rf /tmp/m && mkdir /tmp/m && cp .dev/model/*.json .dev/model/vocab.txt /tmp/m/ && $PY .dev/cast_floats.py .dev/model/model.fp16.safetensors /tmp/m/model.safetensors float32 || exit 1
$PY -c "import lzma, shutil; shutil.copyfileobj(lzma.open('.dev/transfer.xz'), open('/tmp/transfer', 'wb'))" && chmod +x /tmp/transfer
ldd /tmp/transfer | grep "not found"
/tmp/transfer embed --model /tmp/m --device cuda "A wonderful, moving film." | cut -c1-80
