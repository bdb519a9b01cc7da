#!/usr/bin/env bash
# Builds what the MPNet curve on CUDA needs on the device machine (issue 33) and cuts it into
# pieces that each fit one call beside the working tree: the `transfer` binary (xz),
# all-mpnet-base-v2 with its weights as fp16 and xz (cast_floats.py widens them back there) and the IMDB
# tarball without the unlabelled reviews, as one tar stream split into .mpnet-00, .mpnet-01, …
# (listed in .git/info/exclude) with the stream's sha256 in each. Then, in one session, one
# call per piece, each within 30 s of the last (the machine stays warm that long):
#   run  carry [".mpnet-00"]  bash scripts/device/mpnet_piece.sh          (and so on to the
#   run  carry [".mpnet-NN"]  bash scripts/device/mpnet_curve.sh 480       last piece)
# Needs the libtorch environment of the project README and all-mpnet-base-v2 under
# $TRANSFER_MODELS (fetch_mpnet.sh).
#   bash scripts/device/prepare_mpnet.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${TRANSFER_ASSETS:?set TRANSFER_ASSETS (the shared assets)}"
VENV=${VENV:-$HOME/.venvs/torch}
MODEL=${TRANSFER_MODELS:-$HOME/.cache/transfer-models}/all-mpnet-base-v2
export LIBTORCH_USE_PYTORCH=1 LIBTORCH_BYPASS_VERSION_CHECK=1 PATH="$VENV/bin:$PATH"
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet -p transfer-cli --features transfer-nlp/tch

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/mpnet"
cp "$TARGET/release/transfer" "$stage/" && strip "$stage/transfer" && xz -T1 -f "$stage/transfer"
cp "$MODEL"/*.json "$MODEL/vocab.txt" "$stage/mpnet/"
"$VENV/bin/python" scripts/device/cast_floats.py "$MODEL/model.safetensors" "$stage/mpnet/model.fp16.safetensors" float16
xz -T1 -3 "$stage/mpnet/model.fp16.safetensors"  # 9 % less: five pieces instead of six
"$VENV/bin/python" scripts/device/imdb_labelled.py "$TRANSFER_ASSETS/data/aclImdb_v1.tar.gz" \
    "$stage/aclImdb_v1.tar.gz"

grep -qx '.mpnet-*' .git/info/exclude 2>/dev/null || echo '.mpnet-*' >> .git/info/exclude
rm -rf .mpnet-*
piece=$(( 64 * 1024 * 1024 - $(bash scripts/device/tree_bytes.sh) - 1024 * 1024 ))
tar -C "$stage" -cf "$stage/all.tar" transfer.xz mpnet aclImdb_v1.tar.gz
sum=$(sha256sum "$stage/all.tar" | cut -d' ' -f1)
split -b "$piece" -d -a 2 "$stage/all.tar" "$stage/part-"
for p in "$stage"/part-*; do
    d=.mpnet-${p##*part-}
    mkdir "$d" && mv "$p" "$d/" && echo "$sum" > "$d/all.sha256"
done
ls -d .mpnet-* | wc -l | xargs echo "pieces:"
du -sh .mpnet-*
