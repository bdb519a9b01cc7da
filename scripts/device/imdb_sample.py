"""Balanced, seeded IMDB samples as JSON lines, small enough to carry to the device machine.

    python3 scripts/device/imdb_sample.py $TRANSFER_ASSETS/data/aclImdb_v1.tar.gz .dev/data 100 500

writes train.jsonl (100 reviews per class) and test.jsonl (500 per class), {"text", "label"}.
"""
import json, os, random, sys, tarfile

tarball, out, n_train, n_test = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
reviews = {}
with tarfile.open(tarball, "r:gz") as tar:
    for member in tar:
        parts = member.name.split("/")
        if len(parts) == 4 and parts[1] in ("train", "test") and parts[2] in ("pos", "neg") \
                and parts[3].endswith(".txt"):
            text = tar.extractfile(member).read().decode("utf-8")
            reviews.setdefault((parts[1], parts[2]), []).append((parts[3], text))
os.makedirs(out, exist_ok=True)
for split, per_class in (("train", n_train), ("test", n_test)):
    rows = []
    for label in ("neg", "pos"):
        pool = sorted(reviews[(split, label)])
        rows += [{"text": t, "label": label} for _, t in random.Random(1).sample(pool, per_class)]
    random.Random(2).shuffle(rows)
    with open(os.path.join(out, f"{split}.jsonl"), "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    print(split, len(rows))
