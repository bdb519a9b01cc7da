#!/bin/bash
# One device call per piece that prepare_mpnet.sh cut (carry `.mpnet-NN`): keeps the piece in
# /tmp/pieces until mpnet_curve.sh, carried with the last one, puts them together. The next
# call must follow within the machine's 30 s.
set -euo pipefail
mkdir -p /tmp/pieces
for d in .mpnet-*; do cp "$d"/part-* /tmp/pieces/ && cp "$d/all.sha256" /tmp/pieces/; done
ls -l /tmp/pieces
