"""Writes docs/results/foundation.json and foundation.md: the BiLSTM trained from scratch on
2,000 IMDB reviews, by the example and by the CLI, on flex and on libtorch CPU.

    python3 scripts/results/foundation.py        (from the repository root; about 5 minutes)
"""

from common import binary, build, commit, machine, run, today, torch_env, write, write_text

TRAIN, TEST = "2000", "2000"


def measure(backend, env=None):
    device = "tch" if backend == "tch" else "cpu"
    features = ["--features", "tch"] if backend == "tch" else []
    build([*features, "--example", "imdb_bilstm", "-p", "transfer-nlp"], env)
    build([*features, "-p", "transfer-cli"], env)
    rows = []
    lines, wall, peak = run([binary("imdb_bilstm", example=True), "--device", device,
                             "--train", TRAIN, "--test", TEST], env)
    result = lines[-1]
    rows.append({"via": "example", "backend": backend,
                 "command": f"cargo run --release {' '.join(features)} --example imdb_bilstm -- --device {device}".replace("  ", " "),
                 "accuracy": result["accuracy"], "train_seconds": round(result["train_seconds"], 1),
                 "wall_seconds": wall, "peak_rss_mb": peak, "epochs": result["epochs"]})
    model = f"/tmp/foundation-bilstm-{backend}"
    lines, wall, peak = run([binary("transfer"), "train", "--device", device, "--out", model,
                             "--train-size", TRAIN, "--force", "--quiet"], env)
    trained = lines[-1]
    lines, _, _ = run([binary("transfer"), "evaluate", "--device", device, "--model", model,
                       "--test-size", TEST], env)
    rows.append({"via": "CLI", "backend": backend,
                 "command": f"transfer train --device {device} --out runs/bilstm --train-size {TRAIN} && "
                            f"transfer evaluate --device {device} --model runs/bilstm --test-size {TEST}",
                 "accuracy": lines[-1]["accuracy"], "train_seconds": round(trained["train_seconds"], 1),
                 "wall_seconds": wall, "peak_rss_mb": peak})
    return rows


def markdown(doc):
    lines = [
        "# Foundation: BiLSTM from scratch on 2,000 IMDB reviews",
        "",
        f"{doc['task']}. Train {doc['train_examples']}, test {doc['test_examples']} reviews "
        f"({doc['sampling']}); {doc['training']}. Target: {doc['target']}.",
        "",
        f"Written by `{doc['command']}` on {doc['date']} at commit {doc['commit']}; "
        f"machine: {doc['machine']}. Backends: flex (pure Rust CPU, the default) and tch "
        "(libtorch 2.11.0 CPU). Peak RSS from `/usr/bin/time` (of `transfer train` for the CLI).",
        "",
        "| via | backend | accuracy | train time | wall time | peak RSS | command |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in doc["runs"]:
        lines.append(f"| {r['via']} | {r['backend']} | {100 * r['accuracy']:.2f} % | "
                     f"{r['train_seconds']} s | {r['wall_seconds']} s | {r['peak_rss_mb']} MB | "
                     f"`{r['command']}` |")
    lines += ["", "The CLI and the example build the same pipeline; they differ only in the order in "
              "which the vocabulary and the model are built (different random initialisations).", ""]
    return "\n".join(lines)


def main():
    runs = measure("flex") + measure("tch", torch_env())
    doc = {
        "command": "python3 scripts/results/foundation.py",
        "date": today(),
        "commit": commit(),
        "machine": machine(),
        "task": "IMDB sentiment, word-level tokenizer (20k words, min count 2) + learned 64-d "
                "embeddings + BiLSTM (64 per direction) + mean pooling + linear head, trained from scratch",
        "train_examples": int(TRAIN),
        "test_examples": int(TEST),
        "sampling": "balanced, seed 1, from aclImdb train / test",
        "training": "6 epochs, batch 32, AdamW 3e-3 with 10 % warm-up and linear decay, max 256 tokens",
        "target": "at least 75 % accuracy",
        "runs": runs,
    }
    write("docs/results/foundation.json", doc)
    write_text("docs/results/foundation.md", markdown(doc))


if __name__ == "__main__":
    main()
