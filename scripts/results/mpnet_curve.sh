#!/usr/bin/env bash
# all-mpnet-base-v2's learning curve on the CPU (issue 33): the BERT recipe with plain
# fine-tuning (textflix/configs/cpu-mpnet-curve.toml) at n = 10, 100, 500, 1,000, seeds 0, 1, 2,
# on the reviews the PyTorch reference (pytorch_encoder_cpu.py) draws for those sizes and seeds,
# scored on its 2,000 test reviews; libtorch on the CPU. Run from the repository root with
# $TRANSFER_ASSETS set and all-mpnet-base-v2 under $TRANSFER_MODELS (fetch_mpnet.sh):
#   scripts/results/mpnet_curve.sh [SIZE ...]   (10 100 500 1000 by default)
# About 40 minutes a cell on the 2-core machine (9 hours in all): each invocation resumes, the
# cells already in results.json skipped, so the curve can be made over several sittings. The
# n = 100, seed 0 cell is cpu-mpnet-n100/'s (the same reviews and settings). Each invocation's
# time and peak memory are appended to run.log; the merged table is the last step.
set -euo pipefail
source "$(dirname "$0")/mpnet_common.sh"
out=docs/results/textflix/cpu-mpnet-curve
mkdir -p "$out"
for n in ${@:-10 100 500 1000}; do
    seeds=(--transfer-seeds 3)
    [[ "$n" == 100 ]] && seeds=(--set first_seed=1 --transfer-seeds 2)
    echo "== n = $n, $(date -u +%FT%TZ)" >> "$out/run.log"
    /usr/bin/time -v -a -o "$out/run.log" "$transfer" textflix \
        --config textflix/configs/cpu-mpnet-curve.toml --set "bert.model_dir=$model" \
        --transfer-sizes "$n" "${seeds[@]}" --out "$out" --quiet 2>> "$out/run.log"
done
"$transfer" textflix merge --spec textflix/merges/mpnet-cpu.toml --out docs/results/textflix/mpnet-cpu
