#!/usr/bin/env bash
# The Textflix app in a real browser, then under load: trains a small pipeline if none is given,
# starts the app on a free port, drives it with headless Chromium, then loads it with 200
# concurrent clients. Needs Debian's chromium and Node.js (`.ci/run` installs them).
#
# usage: web-tests/run.sh [MODEL_DIR] [SCREENSHOT]
#
# With RESULTS=FILE.json set, the load test's summary also goes into FILE.json as this model's
# row (scripts/results/textflix_app.py, with date, commit and machine) and FILE.md is rendered
# from it, e.g. `RESULTS=docs/results/textflix_app.json web-tests/run.sh runs/minilm-500`.
# Without RESULTS (as in `.ci/run`) the summary is only printed; nothing goes into docs/.
set -euo pipefail
results="${RESULTS:+$(realpath -m "$RESULTS")}"
cd "$(dirname "$0")/.."
export TRANSFER_ASSETS="${TRANSFER_ASSETS:-$(cd .. && pwd)/shared}"
target="${CARGO_TARGET_DIR:-target}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --bin transfer --example textflix-app --example load_test
model="${1:-}"
if [ -z "$model" ]; then
  model="$work/model"
  "$target/release/transfer" train --arch bag --train-size 4000 --epochs 8 --lr 0.02 --out "$model" --quiet
fi
screenshot="${2:-$work/textflix.png}"

for tool in chromium node npm; do
  command -v "$tool" >/dev/null || { echo "FAIL: the browser test needs $tool (Debian's chromium, Node.js and npm)"; exit 1; }
done
(cd web-tests && npm install --silent --no-audit --no-fund)
"$target/release/examples/textflix-app" --model "$model" --db "$work/app.sqlite" --port 0 --corpus-size 300 > "$work/app.log" 2>&1 &
for _ in $(seq 600); do grep -q "listening on" "$work/app.log" 2>/dev/null && break; sleep 0.5; done
url="$(grep -o 'http://[0-9.:]*' "$work/app.log" | head -1)"
[ -n "$url" ] || { cat "$work/app.log"; exit 1; }

node web-tests/app.mjs "$url" "$screenshot" | tee "$work/browser.json"
method="$(grep -o '"method":"[^"]*"' "$work/browser.json" | cut -d'"' -f4)"

# Bad input: a 4xx with a message, and the server keeps serving.
check() { # expected-status curl-args...
  local want="$1"; shift
  local got; got="$(curl -s -o "$work/body" -w '%{http_code}' "$@")"
  [ "$got" = "$want" ] || { echo "FAIL: $* gave $got, expected $want: $(cat "$work/body")"; exit 1; }
  grep -q '"error"' "$work/body" || { echo "FAIL: no error message for $*"; exit 1; }
}
check 400 -X POST "$url/api/predict" -d '{"text": ""}'
check 400 -X POST "$url/api/predict" -d 'not json'
check 400 -X POST "$url/api/predict" --data-binary $'{"text": "caf\xe9 \xff"}'
head -c 200000 /dev/zero | tr '\0' 'a' > "$work/huge"
check 413 -X POST "$url/api/predict" --data-binary @"$work/huge"
check 404 -X POST "$url/api/reviews" -d '{"movie": "tt0000000", "text": "Fine."}'
check 404 "$url/api/movies/tt0000000"
echo "bad input: 4xx with messages"

# A review posted through the API (and the one posted in the browser) survives a restart.
movie="$(curl -s "$url/api/movies" | grep -o '"movie":"[^"]*"' | head -1 | cut -d'"' -f4)"
[ -n "$movie" ] || { echo "FAIL: no movies listed"; exit 1; }
count() { curl -s "$url/api/movies/$movie" | grep -o '"reviews":[0-9]*' | cut -d: -f2; }
before="$(count)"
curl -s -o /dev/null -w '%{http_code}' -X POST "$url/api/reviews" \
  -d "{\"movie\": \"$movie\", \"text\": \"Kept after a restart, I hope.\"}" | grep -q 201 ||
  { echo "FAIL: could not add a review"; exit 1; }
kill %1; wait %1 2>/dev/null || true
"$target/release/examples/textflix-app" --model "$model" --db "$work/app.sqlite" --port 0 > "$work/app2.log" 2>&1 &
for _ in $(seq 600); do grep -q "listening on" "$work/app2.log" 2>/dev/null && break; sleep 0.5; done
url="$(grep -o 'http://[0-9.:]*' "$work/app2.log" | head -1)"
[ "$(count)" = "$((before + 1))" ] || { echo "FAIL: the user review was lost ($before, now $(count))"; exit 1; }
echo "restart: the user reviews are still there ($movie: $before + 1 reviews)"

if [ -z "$results" ]; then
  "$target/release/examples/load_test" --url "$url" --clients 200 --requests 5
else
  "$target/release/examples/load_test" --url "$url" --clients 200 --requests 5 --json "$work/load.json"
  python3 scripts/results/textflix_app.py --record "$work/load.json" --model "${1:-}" --method "$method" --results "$results"
fi
