"""Writes docs/results/word2vec.json and word2vec.md: `transfer word2vec` against gensim 4.4
(PyPI) side by side, in one run on one machine, on the same corpus (IMDB's 75,000 training and
unlabelled reviews; lowercase, `<br />` dropped, tokens `[a-z0-9']+`) and settings (skip-gram,
100 dimensions, window 5, min count 5, negative 5, sample 1e-3, 5 epochs, 2 threads). gensim
runs `$TRANSFER_ASSETS/reference/word2vec_gensim.py` unchanged; ours is the CLI.

Words per second is the same formula for both: corpus tokens x epochs / training seconds,
where training seconds include building the vocabulary (gensim's `Word2Vec(corpus_file=...)`
scans the corpus inside its timer) and exclude reading the tarball. Peak memory is each
process's maximum resident set (/usr/bin/time).

    python3 scripts/results/word2vec.py            (from the repository root; about 8 minutes
                                                    on 2 cores; makes ~/.venvs/gensim with
                                                    gensim==4.4.0 the first time)
    python3 scripts/results/word2vec.py --check    exit 1 if word2vec.md is not what
                                                    word2vec.json renders to
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from common import ROOT, binary, build, check_page, commit, machine, run, today, write, write_text

JSON = "docs/results/word2vec.json"
MD = "docs/results/word2vec.md"
GENSIM = "4.4.0"
KEYS = ("words_per_second", "train_seconds", "peak_rss_mb", "analogy_accuracy",
        "wordsim353_spearman", "simlex999_spearman")


def gensim_python():
    venv = os.path.expanduser("~/.venvs/gensim")
    python = os.path.join(venv, "bin", "python")
    probe = [python, "-c", f"import gensim, sys; sys.exit(gensim.__version__ != '{GENSIM}')"]
    if not os.path.exists(python) or subprocess.run(probe).returncode != 0:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", f"gensim=={GENSIM}"], check=True)
    return python


def measure_gensim(assets, tmp):
    out = os.path.join(tmp, "gensim.json")
    env = dict(os.environ, CORPUS_OUT=os.path.join(tmp, "corpus.txt"))
    command = [gensim_python(), os.path.join(assets, "reference", "word2vec_gensim.py"),
               os.path.join(assets, "data", "aclImdb_v1.tar.gz"), out, "2"]
    # The reference prints indented JSON: it is read from its file, not its output.
    with tempfile.NamedTemporaryFile(mode="r") as timing:
        started = time.monotonic()
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", timing.name, *command], cwd=ROOT,
                       env=env, stdout=subprocess.DEVNULL, check=True)
        wall = round(time.monotonic() - started, 1)
        peak = round(int(timing.read().strip().splitlines()[-1]) / 1024)
    res = json.load(open(out))
    res.update(peak_rss_mb=peak, wall_seconds=wall)
    return res


def measure_ours(assets, tmp):
    command = ["env", f"TRANSFER_ASSETS={assets}", binary("transfer"), "word2vec", "--corpus", "imdb", "--out",
               os.path.join(tmp, "vectors.bin"), "--threads", "2", "--evaluate", "--quiet"]
    lines, wall, peak = run(command)
    res = lines[-1]
    seconds = res["vocab_seconds"] + res["train_seconds"]
    res.update(train_seconds=round(seconds, 1), words_per_second=round(res["words_processed"] / seconds),
               peak_rss_mb=peak, wall_seconds=wall,
               command="transfer word2vec --corpus imdb --out vectors.bin --threads 2 --evaluate")
    return res


READ_BY_GENSIM = """
import json, os, sys, gensim
from gensim.models import KeyedVectors
kv = KeyedVectors.load_word2vec_format(sys.argv[1], binary=sys.argv[1].endswith(".bin"))
d = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data")
analogy, _ = kv.evaluate_word_analogies(os.path.join(d, "questions-words.txt"), restrict_vocab=30000)
ws = kv.evaluate_word_pairs(os.path.join(d, "wordsim353.tsv"))
sl = kv.evaluate_word_pairs(os.path.join(d, "simlex999.txt"))
print(json.dumps({"file": os.path.basename(sys.argv[1]), "vocab": len(kv), "dim": kv.vector_size,
                  "analogy_accuracy": round(analogy, 4), "wordsim353_spearman": round(ws[1][0], 4),
                  "simlex999_spearman": round(sl[1][0], 4)}))
"""


def read_by_gensim(path):
    """Our file loaded by gensim's KeyedVectors and scored by gensim's own evaluation."""
    out = subprocess.run([gensim_python(), "-c", READ_BY_GENSIM, path], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def markdown(doc):
    ours, theirs = doc["ours"], doc["gensim"]
    rows = [
        ("words / s (higher is better)", "words_per_second", "{:,.0f}"),
        ("training seconds, vocabulary included", "train_seconds", "{:.1f}"),
        ("peak RSS, MB", "peak_rss_mb", "{:,.0f}"),
        ("Google analogies, 3CosAdd, 30,000 most frequent words", "analogy_accuracy", "{:.4f}"),
        ("WordSim-353 Spearman", "wordsim353_spearman", "{:.4f}"),
        ("SimLex-999 Spearman", "simlex999_spearman", "{:.4f}"),
    ]
    lines = [
        "# Word2vec against gensim, side by side",
        "",
        "<!-- Generated by scripts/results/word2vec.py from word2vec.json: do not edit. -->",
        "",
        f"Machine: {doc['machine']}; {doc['date']}, commit {doc['commit']}. Corpus: IMDB's "
        f"training and unlabelled reviews ({theirs['reviews']:,} reviews, {theirs['tokens']:,} "
        f"tokens; gensim's vocabulary {theirs['vocab']:,}, ours {ours['vocab']:,}). Settings: "
        f"{theirs['params']}, 2 threads. One run each, in the same run of the script.",
        "",
        "| | ours (`transfer word2vec`) | gensim " + theirs["gensim"] + " | ours / gensim |",
        "| --- | --- | --- | --- |",
    ]
    for title, key, fmt in rows:
        ratio = ours[key] / theirs[key] if theirs[key] else float("nan")
        lines.append(f"| {title} | {fmt.format(ours[key])} | {fmt.format(theirs[key])} | {ratio:.2f} |")
    lines += [
        "",
        "Words per second: corpus tokens x epochs / training seconds for both (gensim's timer "
        "includes its vocabulary scan, so ours includes building the vocabulary too). Quality "
        "with each side's own evaluation code on the same files: analogies over the 30,000 most "
        f"frequent words ({ours['analogy_questions']:,} questions answered by ours, "
        f"{ours['analogy_skipped']:,} skipped), Spearman over the pairs both words of which are in "
        f"the vocabulary (ours: WordSim-353 {ours['wordsim353_coverage']:.3f} of the pairs, "
        f"SimLex-999 {ours['simlex999_coverage']:.3f}).",
        "",
        f"Our binary file loads in gensim (`KeyedVectors.load_word2vec_format(..., binary=True)`: "
        f"{doc['ours_read_by_gensim']['vocab']:,} words of {doc['ours_read_by_gensim']['dim']} "
        f"dimensions), and gensim's own evaluation of it gives analogies "
        f"{doc['ours_read_by_gensim']['analogy_accuracy']:.4f}, WordSim-353 "
        f"{doc['ours_read_by_gensim']['wordsim353_spearman']:.4f}, SimLex-999 "
        f"{doc['ours_read_by_gensim']['simlex999_spearman']:.4f}.",
        "",
        "```sh",
        "python3 scripts/results/word2vec.py",
        "```",
        "",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    if a.check:
        check_page(MD, markdown(json.load(open(os.path.join(ROOT, JSON)))), "python3 scripts/results/word2vec.py")
        return
    assets = os.environ.get("TRANSFER_ASSETS", os.path.join(ROOT, "..", "shared"))
    build(["-p", "transfer-cli"])
    with tempfile.TemporaryDirectory() as tmp:
        gensim = measure_gensim(assets, tmp)
        ours = measure_ours(assets, tmp)
        read = read_by_gensim(os.path.join(tmp, "vectors.bin"))
    doc = {"machine": machine(), "date": today(), "commit": commit(),
           "command": "python3 scripts/results/word2vec.py", "gensim": gensim, "ours": ours,
           "ours_read_by_gensim": read}
    write(JSON, doc)
    write_text(MD, markdown(doc))
    print(markdown(doc))


if __name__ == "__main__":
    main()
