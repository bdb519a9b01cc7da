"""Times reading all 100,000 IMDB reviews (train, test, unlabelled) from the tarball with
Python's tarfile, decoded to str: what `cargo bench --bench imdb` does, without the labels,
ratings and movie links. Prints one JSON object (best of the repeats).

usage: python3 scripts/python_imdb_read_time.py ../shared/data/aclImdb_v1.tar.gz [repeats]
"""
import json, sys, tarfile, time

def read(path):
    n = 0
    with tarfile.open(path, "r:gz") as tar:
        for m in tar:
            if m.isfile() and m.name.endswith(".txt") and any(
                f"/{d}/" in m.name for d in ("pos", "neg", "unsup")
            ):
                tar.extractfile(m).read().decode("utf-8")
                n += 1
    return n

path, repeats = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
times = []
for _ in range(repeats):
    t = time.perf_counter()
    n = read(path)
    times.append(time.perf_counter() - t)
print(json.dumps({"reviews": n, "best_seconds": round(min(times), 3), "python": sys.version.split()[0]}))
