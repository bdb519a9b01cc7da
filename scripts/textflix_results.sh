#!/usr/bin/env bash
# Regenerates every table and learning-curve figure under docs/results/textflix/ from the runs'
# own results.json and run.json (nothing is trained), then the merged full study (full/) from
# the runs textflix/merges/full.toml names, and the word-vector comparison (word-vectors/) from
# textflix/merges/word_vectors.toml, and MPNet's CPU curve (mpnet-cpu/) from
# textflix/merges/mpnet-cpu.toml. Run from the repository root:
#   scripts/textflix_results.sh            (needs $TRANSFER_ASSETS for the reference curves)
set -euo pipefail
cargo build --release --quiet -p transfer-cli
transfer="${CARGO_TARGET_DIR:-target}/release/transfer"
runs=()
while IFS= read -r run; do
    dir=$(dirname "$run")
    [[ "$dir" == docs/results/textflix/full || "$dir" == docs/results/textflix/word-vectors ]] && continue
    [[ -f "$dir/results.json" ]] && runs+=("$dir")
done < <(find docs/results/textflix -name run.json | sort)
"$transfer" textflix report "${runs[@]}"
"$transfer" textflix merge --spec textflix/merges/full.toml --out docs/results/textflix/full
"$transfer" textflix merge --spec textflix/merges/word_vectors.toml --out docs/results/textflix/word-vectors
"$transfer" textflix merge --spec textflix/merges/mpnet-cpu.toml --out docs/results/textflix/mpnet-cpu
# The merged table into the textflix README, between its markers.
readme=docs/results/textflix/README.md
awk -v table=docs/results/textflix/full/results.md '
    /^<!-- begin full\/results.md/ { print; print ""; while ((getline line < table) > 0) if (n++ >= 2) print line; skip = 1; next }
    /^<!-- end full\/results.md/ { skip = 0 }
    !skip { print }' "$readme" > "$readme.tmp"
mv "$readme.tmp" "$readme"
