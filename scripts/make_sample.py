"""Writes examples/data/reviews.csv: 160 short IMDB reviews (80 positive, 80 negative, from the
training part of aclImdb_v1.tar.gz), columns `text,label`, for `examples/own_data.rs` and CI.

Only reviews of at most 600 characters are drawn (whole reviews, not cut), seeded, so the file
is small (about 70 KB) and the same on every run.

    python3 scripts/make_sample.py [$TRANSFER_ASSETS/data/aclImdb_v1.tar.gz]
"""

import csv
import os
import random
import re
import sys
import tarfile
from pathlib import Path

PER_LABEL = 80
MAX_CHARS = 600
SEED = 1

root = Path(__file__).resolve().parent.parent
tarball = Path(
    sys.argv[1]
    if len(sys.argv) > 1
    else Path(os.environ.get("TRANSFER_ASSETS", root.parent / "shared")) / "data/aclImdb_v1.tar.gz"
)

short = {"pos": [], "neg": []}
with tarfile.open(tarball) as tar:
    for member in tar:
        m = re.fullmatch(r"aclImdb/train/(pos|neg)/(\d+)_(\d+)\.txt", member.name)
        if not m:
            continue
        text = tar.extractfile(member).read().decode("utf-8")
        text = " ".join(text.replace("<br />", " ").split())
        if len(text) <= MAX_CHARS:
            short[m.group(1)].append((member.name, text))

rng = random.Random(SEED)
rows = []
for folder, label in [("pos", "positive"), ("neg", "negative")]:
    reviews = sorted(short[folder])  # tar order is not guaranteed: sort before drawing
    rows += [(text, label) for _, text in rng.sample(reviews, PER_LABEL)]
rng.shuffle(rows)

out = root / "examples/data/reviews.csv"
with open(out, "w", newline="", encoding="utf-8") as f:
    writer = csv.writer(f)
    writer.writerow(["text", "label"])
    writer.writerows(rows)
print(f"{out}: {len(rows)} reviews, {out.stat().st_size} bytes")
