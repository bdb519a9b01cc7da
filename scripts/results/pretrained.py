"""Writes docs/results/pretrained.json and pretrained.md: all-MiniLM-L6-v2 against transformers
(golden test), its load time and sentence-embedding speed on flex and libtorch CPU (criterion)
beside PyTorch's on the same machine in the same run, and GloVe's coverage of IMDB.

    python3 scripts/results/pretrained.py     (from the repository root; about 10 minutes; needs
                                               torch and transformers in ~/.venvs/torch)
"""

import json
import os
import re
import subprocess
import tempfile

from common import ROOT, TARGET, commit, machine, today, torch_env, write, write_text


def cargo_test(args, pattern, env=None):
    """Runs a test with --nocapture and returns the groups of the first line matching pattern."""
    done = subprocess.run(["cargo", "test", "--release", *args, "--", "--nocapture"], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=True)
    for line in (done.stderr + done.stdout).splitlines():
        match = re.search(pattern, line)
        if match:
            return match.groups()
    raise RuntimeError(f"no line matching {pattern!r} in the output of {args}")


def criterion_mean_seconds(name):
    path = os.path.join(TARGET, "criterion", "minilm", name, "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["mean"]["point_estimate"] / 1e9


def pytorch_texts_per_second(env):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        assets = os.environ.get("TRANSFER_ASSETS", os.path.join(ROOT, "..", "shared"))
        subprocess.run([os.path.expanduser("~/.venvs/torch/bin/python"),
                        os.path.join(assets, "reference", "pytorch_minilm_cpu.py"),
                        os.path.join(assets, "models", "all-MiniLM-L6-v2"), out.name],
                       env=env, check=True, capture_output=True)
        with open(out.name) as f:
            result = json.load(f)
    return result["seq128"]["infer_examples_per_s"], result["torch"], result["threads"]


def main():
    env = torch_env()
    (flex,) = cargo_test(["--test", "golden", "minilm_matches"], r"on flex: (\S+)")
    (tch,) = cargo_test(["--features", "tch", "--test", "tch_backend", "minilm"], r"on tch: (\S+)", env)
    found, words, fraction = cargo_test(["--test", "pretrained", "glove"],
                                        r"covers (\d+) of (\d+) IMDB vocabulary words \(([\d.]+)%\)")
    subprocess.run(["cargo", "bench", "--features", "tch", "--bench", "sentence_embedding"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    speed = {backend: {"load_seconds": round(criterion_mean_seconds(f"load_{backend}"), 4),
                       "texts_per_second": round(32 / criterion_mean_seconds(f"embed_32x128_{backend}"), 1)}
             for backend in ("flex", "tch-cpu")}
    pytorch, torch_version, threads = pytorch_texts_per_second(env)
    doc = {
        "command": "python3 scripts/results/pretrained.py",
        "date": today(),
        "commit": commit(),
        "machine": machine(),
        "golden": {
            "what": "all-MiniLM-L6-v2 token ids and last_hidden_state against transformers' "
                    "(golden/ in the assets): the padded batch at max length 128 and each of 8 "
                    "texts alone at max length 512 (one truncated); the tests assert identical "
                    "ids and differences within 1e-4",
            "tests": ["cargo test --release --test golden minilm_matches",
                      "cargo test --release --features tch --test tch_backend minilm"],
            "max_abs_diff": {"flex": float(flex), "tch-cpu": float(tch)},
        },
        "sentence_embedding": {
            "what": "batch 32 x 128 tokens, mean pooling + L2 norm (criterion mean); PyTorch: "
                    "eager fp32 inference of the same shape, 3 batches, in the same run",
            "bench": "cargo bench --features tch --bench sentence_embedding",
            "ours": speed,
            "pytorch": {"texts_per_second": round(pytorch, 1), "torch": torch_version,
                        "threads": threads},
            "ratio_to_pytorch": {b: round(s["texts_per_second"] / pytorch, 2) for b, s in speed.items()},
        },
        "glove_coverage": {
            "test": "cargo test --release --test pretrained glove",
            "vectors": "glove.6B.50d.100k.txt.gz",
            "vocabulary": "word-level, 2,000 IMDB training reviews, min count 2",
            "found": int(found), "vocab_words": int(words), "fraction": float(fraction) / 100,
        },
    }
    write("docs/results/pretrained.json", doc)
    write_text("docs/results/pretrained.md", markdown(doc))


def markdown(doc):
    g, s, c = doc["golden"], doc["sentence_embedding"], doc["glove_coverage"]
    return "\n".join([
        "# Pretrained stages",
        "",
        f"Written by `{doc['command']}` on {doc['date']} at commit {doc['commit']}; machine: "
        f"{doc['machine']}. Backends: flex (pure Rust, default) and tch (libtorch 2.11.0, CPU).",
        "",
        "## Golden test against transformers",
        "",
        f"{g['what']}.",
        "",
        "| backend | largest absolute difference | test |",
        "| --- | --- | --- |",
        f"| flex | {g['max_abs_diff']['flex']:.1e} | `{g['tests'][0]}` |",
        f"| tch CPU | {g['max_abs_diff']['tch-cpu']:.1e} | `{g['tests'][1]}` |",
        "",
        "## Speed",
        "",
        f"{s['what']}; `{s['bench']}`, PyTorch {s['pytorch']['torch']} with "
        f"{s['pytorch']['threads']} threads (`reference/pytorch_minilm_cpu.py`).",
        "",
        "| what | flex | tch CPU | PyTorch eager fp32 |",
        "| --- | --- | --- | --- |",
        f"| model + tokenizer load | {s['ours']['flex']['load_seconds']:.3f} s | "
        f"{s['ours']['tch-cpu']['load_seconds']:.3f} s | |",
        f"| sentence embedding (texts/s) | {s['ours']['flex']['texts_per_second']} | "
        f"{s['ours']['tch-cpu']['texts_per_second']} | {s['pytorch']['texts_per_second']} |",
        f"| ratio to PyTorch | {s['ratio_to_pytorch']['flex']} | {s['ratio_to_pytorch']['tch-cpu']} | 1 |",
        "",
        "PyTorch times 3 batches, criterion many: single PyTorch runs move by about ±10 %.",
        "",
        "## GloVe coverage",
        "",
        f"`{c['test']}`: {c['vectors']} covers {c['found']:,} of the {c['vocab_words']:,} words "
        f"({100 * c['fraction']:.1f} %) of a {c['vocabulary']} vocabulary; the rest get random "
        "vectors at the vectors' standard deviation, padding gets zeros.",
        "",
    ])


if __name__ == "__main__":
    main()
