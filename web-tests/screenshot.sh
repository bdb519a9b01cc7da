#!/usr/bin/env bash
# The app's screenshot alone (the browser steps of run.sh, no load test): for models too slow on
# CPU cores for 1,000 explained requests, e.g. MiniLM with integrated gradients.
#
# usage: web-tests/screenshot.sh MODEL_DIR SCREENSHOT [APP_ARGS...]
#   e.g. web-tests/screenshot.sh runs/explanations-minilm-500 docs/textflix-app.png
#   (runs/explanations-minilm-500: MiniLM fine-tuned on 500 reviews, 128 tokens, written by
#   `python3 scripts/results/explanations.py`)
set -euo pipefail
model="$(realpath "$1")"; screenshot="$(realpath -m "$2")"; shift 2
cd "$(dirname "$0")/.."
export TRANSFER_ASSETS="${TRANSFER_ASSETS:-$(cd .. && pwd)/shared}"
target="${CARGO_TARGET_DIR:-target}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build --release --quiet --example textflix-app
(cd web-tests && npm install --silent --no-audit --no-fund)
"$target/release/examples/textflix-app" --model "$model" --db "$work/app.sqlite" --port 0 --corpus-size 300 "$@" > "$work/app.log" 2>&1 &
for _ in $(seq 600); do grep -q "listening on" "$work/app.log" 2>/dev/null && break; sleep 0.5; done
url="$(grep -o 'http://[0-9.:]*' "$work/app.log" | head -1)"
[ -n "$url" ] || { cat "$work/app.log"; exit 1; }
node web-tests/app.mjs "$url" "$screenshot"
