#!/usr/bin/env bash
# all-mpnet-base-v2 toward 90 % at n = 100 (issue 33): the recipe chosen on held-out training
# reviews (docs/results/textflix/held-out/mpnet-cotrain/, cpu-mpnet-cotrain-held-out.toml),
# scored once on the test reviews: textflix/configs/cpu-mpnet-cotrain.toml, seeds 0, 1, 2, on
# the PyTorch reference's training samples and its 2,000 test reviews, as the curve
# (mpnet_curve.sh); libtorch on the CPU. Run from the repository root with $TRANSFER_ASSETS set
# and all-mpnet-base-v2 under $TRANSFER_MODELS (fetch_mpnet.sh):
#   scripts/results/mpnet_cotrain.sh
# About 45 minutes a cell on the 2-core machine: each invocation resumes, the cells already in
# results.json skipped. Each invocation's time and peak memory are appended to run.log; the
# merged MPNet table (mpnet-cpu/, with the curve) is the last step.
set -euo pipefail
source "$(dirname "$0")/mpnet_common.sh"
out=docs/results/textflix/cpu-mpnet-cotrain
mkdir -p "$out"
echo "== $(date -u +%FT%TZ)" >> "$out/run.log"
/usr/bin/time -v -a -o "$out/run.log" "$transfer" textflix \
    --config textflix/configs/cpu-mpnet-cotrain.toml --set "bert.model_dir=$model" \
    --out "$out" --quiet 2>> "$out/run.log"
"$transfer" textflix merge --spec textflix/merges/mpnet-cpu.toml --out docs/results/textflix/mpnet-cpu
