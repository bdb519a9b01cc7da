#!/bin/bash
# Builds and assembles what the device calls carry, on this (development) machine, in one go:
#   .dev-tests: the kernels and contextual crates' test binaries (xz; cuda_tests.sh runs them);
#   .dev: the `transfer` binary, the MiniLM weights as fp16, its tokenizer and config, the
#         PyTorch reference scripts, the CUDA tracing shim, setup.sh and cast_floats.py;
#   .dev2: the IMDB tarball and the curve scripts (whole.sh, whole_parallel.sh, ensemble.sh,
#         curve.sh, variants.sh).
# All are listed in .git/info/exclude, and each is checked to fit one call beside the working
# tree (64 MiB together; .dev2 no longer does: see README.md here).
# Then (README.md here): carry `.dev`, `bash scripts/device/trace.sh` (or `bash .dev/setup.sh`),
# and within 30 s carry `.dev2` and one of its scripts. Needs the libtorch environment of the
# project README (torch 2.11.0 from PyPI).
#   bash scripts/device/prepare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${TRANSFER_ASSETS:?set TRANSFER_ASSETS (the shared assets)}"
VENV=${VENV:-$HOME/.venvs/torch}
TORCH=$("$VENV/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
export LIBTORCH_USE_PYTORCH=1 LIBTORCH_BYPASS_VERSION_CHECK=1 PATH="$VENV/bin:$PATH"
export LD_LIBRARY_PATH="$TORCH/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
TARGET=${CARGO_TARGET_DIR:-target}

cargo build --release --features tch --bin transfer
# The path of crate $1's unit-test binary (built with the tch feature).
test_binary() {
  cargo test --release -p "$1" --features tch --lib --no-run 2>&1 |
    grep -o "(target[^)]*\|([^)]*${1//-/_}-[^)]*" | tr -d '(' | tail -1
}
kernels_tests=$(test_binary transfer-kernels)
contextual_tests=$(test_binary transfer-contextual)

rm -rf .dev .dev2 .dev-tests
mkdir -p .dev/model .dev/reference .dev2 .dev-tests
grep -qx '.dev' .git/info/exclude 2>/dev/null || printf '.dev\n.dev2\n' >> .git/info/exclude
grep -qx '.dev-tests' .git/info/exclude || echo '.dev-tests' >> .git/info/exclude
cp "$TARGET/release/transfer" .dev/ && strip .dev/transfer && xz -f .dev/transfer
cp "$kernels_tests" .dev-tests/kernels_tests && strip .dev-tests/kernels_tests && xz -f .dev-tests/kernels_tests
cp "$contextual_tests" .dev-tests/contextual_tests && strip .dev-tests/contextual_tests && xz -f .dev-tests/contextual_tests
cp "$TRANSFER_ASSETS"/reference/*.py .dev/reference/
M="$TRANSFER_ASSETS/models/all-MiniLM-L6-v2"
cp "$M"/*.json "$M/vocab.txt" .dev/model/
# fp16 (45 MB) to fit the carry; cast_floats.py widens it back there, for both sides.
"$VENV/bin/python" scripts/device/cast_floats.py "$M/model.safetensors" .dev/model/model.fp16.safetensors float16
g++ -O2 -shared -fPIC -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=1 scripts/profile/torch_trace.cpp \
  -I"$TORCH/include" -I"$TORCH/include/torch/csrc/api/include" -L"$TORCH/lib" \
  -Wl,--no-as-needed -ltorch_cuda -ltorch_cpu -lc10 -o .dev/torch_trace.so
cp scripts/device/{setup.sh,cast_floats.py} .dev/
cp "$TRANSFER_ASSETS/data/aclImdb_v1.tar.gz" .dev2/
cp scripts/device/{whole.sh,whole_parallel.sh,ensemble.sh,curve.sh,variants.sh} .dev2/
du -sh .dev .dev2 .dev-tests
tree=$(bash scripts/device/tree_bytes.sh)
for d in .dev .dev2 .dev-tests; do
  [ $(( $(du -sb $d | cut -f1) + tree )) -le $((64 * 1024 * 1024)) ] ||
    echo "$d does not fit a call beside the working tree ($tree bytes): carry less" >&2
done
