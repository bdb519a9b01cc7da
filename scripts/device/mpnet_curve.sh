#!/bin/bash
# The last device call of the MPNet curve on CUDA (issue 33; carry the last `.mpnet-NN` piece of
# prepare_mpnet.sh, the others carried by mpnet_piece.sh on the same warm machine): puts the
# pieces together and checks them, widens the weights to fp32, checks an embedding on CUDA
# against the CPU's, then runs textflix/configs/gpu-mpnet-curve.toml for SECONDS (default 480):
# n = 10,000 seed 0 first, then n = 10 … 1,000 seed 0, then the other seeds. It resumes from
# the cells committed under docs/results/textflix/gpu-mpnet-curve, so a later session adds to
# them: commit what comes back there.
#   bash scripts/device/mpnet_curve.sh [SECONDS]
set -uo pipefail
export LD_LIBRARY_PATH=/opt/torch/.venv/lib/python3.12/site-packages/torch/lib
PY=/opt/torch/.venv/bin/python3
LIMIT=${1:-480}
start=$(date +%s)
bash scripts/device/mpnet_piece.sh > /dev/null || exit 1
p=/tmp/pieces
cat $p/part-* > $p/all.tar
[ "$(sha256sum $p/all.tar | cut -d' ' -f1)" = "$(cat $p/all.sha256)" ] || { echo "pieces missing or damaged:"; ls -l $p; exit 1; }
mkdir -p /tmp/assets/data && tar -xf $p/all.tar -C /tmp && mv /tmp/aclImdb_v1.tar.gz /tmp/assets/data/
$PY scripts/device/cast_floats.py /tmp/mpnet/model.fp16.safetensors.xz /tmp/mpnet/model.safetensors float32 \
    && rm /tmp/mpnet/model.fp16.safetensors.xz || exit 1
$PY -c "import lzma, shutil; shutil.copyfileobj(lzma.open('/tmp/transfer.xz'), open('/tmp/transfer', 'wb'))" && chmod +x /tmp/transfer
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee $OUT/gpu.txt
for d in cpu cuda; do /tmp/transfer embed --model /tmp/mpnet --device $d "A wonderful, moving film." | cut -c1-100; done
export TRANSFER_ASSETS=/tmp/assets
out=/tmp/gpu-mpnet-curve
mkdir -p $out && cp docs/results/textflix/gpu-mpnet-curve/results.json $out/ 2>/dev/null
left() { echo $((LIMIT - ($(date +%s) - start))); }
run() {
    timeout "$(left)" /tmp/transfer textflix --config textflix/configs/gpu-mpnet-curve.toml \
        --set bert.model_dir=/tmp/mpnet --out $out --quiet "$@" 2>&1 | tee -a $OUT/curve.log
}
run --transfer-sizes 10000 --transfer-seeds 1
run --transfer-seeds 1
run
echo "wall $(( $(date +%s) - start )) s" | tee -a $OUT/curve.log
cp $out/results.json $out/results.md $out/results.csv $out/run.json $OUT/ 2>/dev/null
true
