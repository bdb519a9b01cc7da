"""Times the Hugging Face fast tokenizer (Rust `tokenizers` under transformers) on all 50,000
labelled IMDB reviews, untruncated, on this machine: the reference for the WordPiece row of
docs/results/benchmarks.md.

python3 scripts/hf_tokenize_time.py $TRANSFER_ASSETS [repeats]
"""
import sys
import tarfile
import time

from transformers import AutoTokenizer

assets = sys.argv[1]
repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
texts = []
with tarfile.open(f"{assets}/data/aclImdb_v1.tar.gz") as tar:
    for member in tar:
        parts = member.name.split("/")
        if member.isfile() and len(parts) == 4 and parts[1] in ("train", "test") and parts[2] in ("pos", "neg"):
            texts.append(tar.extractfile(member).read().decode("utf-8"))
tokenizer = AutoTokenizer.from_pretrained(f"{assets}/models/all-MiniLM-L6-v2")
best = float("inf")
for _ in range(repeats):
    start = time.perf_counter()
    tokenizer(texts, add_special_tokens=False)
    best = min(best, time.perf_counter() - start)
print(f"{len(texts)} reviews, best of {repeats}: {best:.2f} s ({len(texts) / best:.0f} reviews/s)")
