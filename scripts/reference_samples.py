"""Writes the exact reviews /work/shared/reference/pytorch_encoder_cpu.py trains and scores on,
as review ids the Textflix study reads (`samples` in StudyConfig), so that a comparison with
the reference is on the same sample and seeds:

    python3 scripts/reference_samples.py 100 3 2000 docs/results/textflix/reference_samples_n100.json

Usage: reference_samples.py N SEEDS TEST_SIZE OUT.json [FIRST_SEED] (the reference script's own
N SEEDS TEST_SIZE [FIRST_SEED]; N may be a comma-separated list, `10,100,500,1000`, for one file
holding each size's samples: the reference run once per size draws exactly those); the tarball is $TRANSFER_ASSETS/data/aclImdb_v1.tar.gz
(default ../shared next to the workspace). Python 3 standard library only; about a minute.

The reference reads aclImdb_v1.tar.gz itself (not the jsonl files of make_jsonl.py): the
train/test pos/neg reviews, each folder sorted by (tar path, text), decoded as UTF-8 with
errors replaced. It then draws, with `random.Random(12345)`, TEST_SIZE // 2 positive then
TEST_SIZE // 2 negative test reviews, and for each seed in FIRST_SEED .. FIRST_SEED + SEEDS,
with `random.Random(seed)`, N // 2 positive then N // 2 negative training reviews. This script
repeats exactly those calls on exactly those lists.

A review id is the review's path inside the tarball's `aclImdb/` tree, `test/pos/10000_7.txt`:
split, label folder and `<id>_<stars>.txt`, which the Rust reader
(`transfer_nlp::pipeline::data::imdb`) keeps as `Review { split, sentiment, id, stars }`. Every
drawn review's text is checked to be the text that reader gives (the bytes decoded as strict
UTF-8: it skips a file that is not), and the number of checked reviews is printed.

Output: {"source", "test_seed": 12345, "n", "first_seed", "seeds", "test_size", "test": [ids],
"train": {"<n>": {"<seed>": [ids]}}}, each list positives first, in the reference's draw order.
"""

import json
import os
import random
import re
import sys
import tarfile
from pathlib import Path

SOURCE = "/work/shared/reference/pytorch_encoder_cpu.py"
TEST_SEED = 12345

if len(sys.argv) not in (5, 6):
    sys.exit(__doc__)
sizes = [int(n) for n in sys.argv[1].split(",")]
seeds, test_size = int(sys.argv[2]), int(sys.argv[3])
out = Path(sys.argv[4])
first_seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0

root = Path(__file__).resolve().parent.parent
tarball = Path(os.environ.get("TRANSFER_ASSETS", root.parent / "shared")) / "data/aclImdb_v1.tar.gz"

# As the reference reads it (its regex, decoding and sort), with the strict decoding beside.
name = re.compile(r"aclImdb/(train|test)/(pos|neg)/\d+_\d+\.txt$")
data = {"train": {"pos": [], "neg": []}, "test": {"pos": [], "neg": []}}
strict = {}
with tarfile.open(tarball) as t:
    for m in t:
        k = name.match(m.name)
        if k:
            raw = t.extractfile(m).read()
            data[k.group(1)][k.group(2)].append((m.name, raw.decode("utf-8", "replace")))
            try:
                strict[m.name] = raw.decode("utf-8")
            except UnicodeDecodeError:
                strict[m.name] = None
for s in data.values():
    for v in s.values():
        v.sort()

# The reference's draws: the same Random calls in the same order.
rt = random.Random(TEST_SEED)
test = rt.sample(data["test"]["pos"], test_size // 2) + rt.sample(data["test"]["neg"], test_size // 2)
train = {}
for n in sizes:
    for seed in range(first_seed, first_seed + seeds):
        rng = random.Random(seed)
        drawn = rng.sample(data["train"]["pos"], n // 2) + rng.sample(data["train"]["neg"], n // 2)
        train.setdefault(str(n), {})[str(seed)] = drawn

# Every drawn review: an id the Rust reader keys unambiguously, and the same text there.
key = re.compile(r"(train|test)/(pos|neg)/(\d+)_(\d+)\.txt")
keys = {}
for path, _ in (p for s in data.values() for v in s.values() for p in v):
    k = key.fullmatch(path.removeprefix("aclImdb/"))
    rust_key = (k[1], k[2], int(k[3]))
    assert rust_key not in keys, f"{path} and {keys[rust_key]} are one review to the Rust reader"
    keys[rust_key] = path
checked = 0
for path, text in test + [r for by_seed in train.values() for rs in by_seed.values() for r in rs]:
    assert strict[path] is not None, f"{path}: not UTF-8, the Rust reader skips it"
    assert strict[path] == text, f"{path}: the reference's text differs from the Rust reader's"
    checked += 1


def ids(reviews):
    return [path.removeprefix("aclImdb/") for path, _ in reviews]


result = {
    "source": SOURCE,
    "command": "python3 scripts/reference_samples.py " + " ".join(sys.argv[1:]),
    "test_seed": TEST_SEED,
    "n": sizes[0] if len(sizes) == 1 else sizes,
    "first_seed": first_seed,
    "seeds": seeds,
    "test_size": test_size,
    "test": ids(test),
    "train": {n: {seed: ids(rs) for seed, rs in by_seed.items()} for n, by_seed in train.items()},
}
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text(json.dumps(result, indent=1) + "\n")
unreadable = sum(text is None for text in strict.values())
print(
    f"{out}: {len(test)} test reviews, {seeds} training samples of each of {sizes}; "
    f"{checked} drawn reviews checked: the same text as the Rust reader's "
    f"({len(strict)} labelled reviews read, {unreadable} not UTF-8)"
)
