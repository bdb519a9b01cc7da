"""Writes docs/results/benchmarks.json and benchmarks.md: the criterion benches of benches/*.rs
(stages, sentence_embedding, nbsvm, imdb) on flex and on libtorch CPU, read from criterion's
own estimates (median and its 95 % confidence interval) and throughput declarations.

    python3 scripts/results/benchmarks.py                 the full set, both backends
                                                          (from the repository root, on an idle
                                                          machine: about 35 minutes)
    python3 scripts/results/benchmarks.py --backend flex --bench stages --filter tokenize
                                                          one group, flex only (about 2 minutes)
    python3 scripts/results/benchmarks.py --references    also time the Python references
    python3 scripts/results/benchmarks.py --render-only   benchmarks.md from benchmarks.json
    python3 scripts/results/benchmarks.py --check         exit 1 if benchmarks.md is not what
                                                          benchmarks.json renders to

--backend flex builds without libtorch (flex rows and the benches without a tensor backend);
tch builds with `--features transfer-nlp/tch` and keeps only the libtorch rows; both (the
default) builds with it once, where the benches run flex and libtorch CPU side by side.
A run replaces, in benchmarks.json, the results of the benches it measured and keeps the others
(each row names its run: date, commit, machine); --fresh drops the others. Criterion writes to a
fresh CRITERION_HOME for each run, so no earlier result can be read back.
"""

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from common import ROOT, TARGET, check_page, commit, machine, today, torch_env, write, write_text

JSON = "docs/results/benchmarks.json"
MD = "docs/results/benchmarks.md"
BENCHES = ["stages", "sentence_embedding", "nbsvm", "imdb"]
TCH_FEATURE = ["--features", "transfer-nlp/tch"]
BACKEND_NAMES = {"flex": "flex", "tch-cpu": "tch"}
COLUMNS = [("none", "no tensor backend"), ("flex", "flex"), ("tch", "tch CPU")]

# What each group measures (benches/*.rs); in the order of the page.
GROUPS = [
    ("tokenize_1000_reviews", "stages",
     "1,000 balanced IMDB test reviews encoded to at most 256 tokens, on all cores (rayon): "
     "MiniLM's WordPiece through our specialised BERT path (`wordpiece`), the same tokenizer "
     "through the `tokenizers` pipeline (`wordpiece_tokenizers_pipeline`), and the word-level "
     "tokenizer (lowercase, punctuation split, `<br />` removed). Throughput: reviews."),
    ("tokenize_all_labelled_reviews", "stages",
     "All 50,000 labelled reviews tokenized whole, untruncated, on all cores: the \"all 50,000 "
     "labelled reviews in at most 5 s on 2 cores\" target. Throughput: reviews."),
    ("forward_batch32", "stages",
     "One forward pass over a batch of 32 random-id sequences of 128 and 256 tokens (the last "
     "part of each name), no padding, no autodiff: a learned 30,522 × 128 embedding, MiniLM's "
     "BERT embeddings, a BiLSTM with 128 units per direction, and MiniLM's 6-layer encoder. "
     "Throughput: sequences."),
    ("pipeline", "stages",
     "MiniLM fine-tuning: one AdamW step over 32 IMDB reviews at 128 tokens "
     "(`minilm_train_step_32x128`), and the whole pipeline predicting 1,000 reviews at 128 "
     "tokens, tokenization included (`minilm_predict_1000_reviews_128`). Throughput: reviews."),
    ("optimizer", "stages",
     "One AdamW step over a BERT encoder's 96 parameter tensors, gradients ready, the model "
     "moved into the step as in training: burn's `AdamW` against ours (libtorch's fused "
     "`_fused_adamw_` on tch, burn's AdamW on flex), at MiniLM's sizes and at hidden size 8 "
     "(`tiny`), where what is left is the cost per tensor on the host."),
    ("softmax_loss", "stages",
     "Cross-entropy of one ULMFiT language-model step's logits (64 streams × 64 tokens over "
     "15,000 words), forward and backward under autodiff: burn's `CrossEntropyLoss` against "
     "`transfer_contextual::cross_entropy` (`ours`). Throughput: rows."),
    ("minilm", "sentence_embedding",
     "MiniLM model + tokenizer load (`load`), and a sentence embedding of a batch of 32 × 128 "
     "random-id tokens, mean pooling and L2 norm (`embed_32x128`). Throughput: loads, texts."),
    ("nbsvm_full_imdb", "nbsvm",
     "NB-SVM on all of IMDB: tokenization, binarised uni+bigram features, NB ratios and the SVM "
     "fit on the 25,000 training reviews, then prediction of the 25,000 test reviews."),
    ("imdb_read", "imdb",
     "All 100,000 reviews (train, test, unlabelled) streamed from `aclImdb_v1.tar.gz`, no "
     "extraction, with their labels, star ratings and movie links (`Imdb::load(…, "
     "ImdbParts::ALL)`): the \"under 5 s\" target."),
]

# The Python references that --references runs; each prints what the renderer shows.
REFERENCES = {
    "hf_tokenize": {
        "script": "scripts/hf_tokenize_time.py", "args": ["{assets}", "3"],
        "beside": "tokenize_all_labelled_reviews",
        "label": "transformers' fast tokenizer (`AutoTokenizer`), all 50,000 labelled reviews, best of 3",
    },
    "sklearn_nbsvm": {
        "script": "scripts/sklearn_nbsvm_time.py", "args": ["{assets}/data/aclImdb_v1.tar.gz", "3"],
        "beside": "nbsvm_full_imdb",
        "label": "scikit-learn NB-SVM (`CountVectorizer` + `LinearSVC`), best of 3",
    },
    "python_imdb_read": {
        "script": "scripts/python_imdb_read_time.py", "args": ["{assets}/data/aclImdb_v1.tar.gz", "3"],
        "beside": "imdb_read",
        "label": "Python's `tarfile`, texts only, best of 3",
    },
}


def assets():
    return os.environ.get("TRANSFER_ASSETS", os.path.join(ROOT, "..", "shared"))


def cargo_bench(benches, backend, bench_filter, home):
    """Runs the benches with criterion writing under `home`; returns the command as run."""
    features = TCH_FEATURE if backend in ("tch", "both") else []
    env = torch_env() if features else dict(os.environ)
    env["CRITERION_HOME"] = home
    pattern = bench_filter
    if backend == "tch":
        # criterion takes one regex: the rows of libtorch that also match the filter.
        pattern = f"({bench_filter}).*tch-cpu|tch-cpu.*({bench_filter})" if bench_filter else "tch-cpu"
    command = ["cargo", "bench", *features]
    for bench in benches:
        command += ["--bench", bench]
    if pattern:
        command += ["--", pattern]
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    return " ".join(shlex.quote(c) for c in command)


def read_criterion(home, started):
    """Every benchmark criterion wrote under `home` since `started`."""
    results = []
    for folder, _, files in os.walk(home):
        if os.path.basename(folder) != "new" or "estimates.json" not in files:
            continue
        estimates_path = os.path.join(folder, "estimates.json")
        if os.path.getmtime(estimates_path) < started:
            continue
        with open(os.path.join(folder, "benchmark.json")) as f:
            bench = json.load(f)
        with open(estimates_path) as f:
            median = json.load(f)["median"]
        parts = bench["function_id"].split("/") if bench["function_id"] else []
        backend = "none"
        for name, short in BACKEND_NAMES.items():
            if name in parts:
                backend = short
                parts.remove(name)
        if bench["value_str"]:
            parts.append(bench["value_str"])
        throughput = bench.get("throughput") or {}
        elements = throughput.get("Elements") or throughput.get("Bytes")
        row = {
            "id": bench["full_id"],
            "group": bench["group_id"],
            "bench": "/".join(parts),
            "backend": backend,
            "median_s": median["point_estimate"] / 1e9,
            "ci95_s": [median["confidence_interval"]["lower_bound"] / 1e9,
                       median["confidence_interval"]["upper_bound"] / 1e9],
        }
        if elements:
            row["elements_per_iteration"] = elements
            row["per_second"] = round(elements / row["median_s"], 1)
        results.append(row)
    return sorted(results, key=lambda r: r["id"])


def run_references(python):
    found = {}
    for name, ref in REFERENCES.items():
        args = [a.format(assets=assets()) for a in ref["args"]]
        command = [python, ref["script"], *args]
        print("+", " ".join(command), flush=True)
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"warning: {ref['script']} failed, not recorded:\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        out = done.stdout.strip().splitlines()[-1]
        if out.startswith("{"):
            seconds = json.loads(out)["best_seconds"]
        else:  # hf_tokenize_time.py: "N reviews, best of R: S s (… reviews/s)"
            seconds = float(out.split(":")[1].split()[0])
        found[name] = {
            "command": " ".join(["python3", ref["script"], *ref["args"]]).replace("{assets}", "$TRANSFER_ASSETS"),
            "date": today(), "commit": commit(), "machine": machine(),
            "best_seconds": seconds, "output": out,
        }
    return found


def snapshot_pretrained():
    """PyTorch's sentence-embedding figure from docs/results/pretrained.json (its own run)."""
    path = os.path.join(ROOT, "docs/results/pretrained.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        doc = json.load(f)
    s = doc["sentence_embedding"]
    return {"file": "docs/results/pretrained.json", "command": doc["command"], "date": doc["date"],
            "commit": doc["commit"], "machine": doc["machine"],
            "texts_per_second": s["pytorch"]["texts_per_second"], "torch": s["pytorch"]["torch"],
            "threads": s["pytorch"]["threads"]}


def load():
    path = os.path.join(ROOT, JSON)
    if not os.path.exists(path):
        return {"runs": [], "results": [], "references": {}}
    with open(path) as f:
        return json.load(f)


def seconds(s):
    if s >= 1:
        return f"{s:.3g} s" if s < 100 else f"{s:.0f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def per_second(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def cell(row):
    lo, hi = row["ci95_s"]
    return f"{seconds(row['median_s'])} ({seconds(lo)} – {seconds(hi)})"


def markdown(doc):
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by scripts/results/benchmarks.py from benchmarks.json: do not edit. -->",
        "",
        "Generated by `python3 scripts/results/benchmarks.py` from [benchmarks.json](benchmarks.json); "
        "do not edit by hand (`python3 scripts/results/benchmarks.py --render-only` renders this "
        "page again, `--check` fails when it differs). Criterion, release profile: the median "
        "time of one iteration with its 95 % confidence interval, and the throughput per second "
        "where the bench declares one (its elements per iteration divided by the median). "
        "Backends: flex (pure Rust, the default) and tch (libtorch 2.11.0 CPU, "
        "`--features transfer-nlp/tch`); benches that use no tensor backend have one column.",
        "",
    ]
    runs = doc["runs"]
    if not doc["results"]:
        lines += ["No results yet: run `python3 scripts/results/benchmarks.py`.", ""]
    if runs:
        lines += ["## Runs", "", "| run | date | commit | machine | command |", "| --- | --- | --- | --- | --- |"]
        for i, r in enumerate(runs, 1):
            lines.append(f"| {i} | {r['date']} | {r['commit']} | {r['machine']} | `{r['command']}` |")
        lines.append("")
    refs = doc.get("references", {})
    known = [g for g, _, _ in GROUPS]
    groups = GROUPS + [(g, "?", "") for g in sorted({r["group"] for r in doc["results"]}) if g not in known]
    for group, bench, about in groups:
        rows = [r for r in doc["results"] if r["group"] == group]
        if not rows:
            continue
        lines += [f"## `{group}` (`cargo bench --bench {bench}`)", ""]
        if about:
            lines += [about, ""]
        columns = [(key, title) for key, title in COLUMNS if any(r["backend"] == key for r in rows)]
        throughput = any("per_second" in r for r in rows)
        header = ["bench"]
        for _, title in columns:
            header.append(f"{title}: median (95 % CI)")
            if throughput:
                header.append(f"{title}: per second")
        header.append("run")
        lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        names = []
        for r in rows:
            if r["bench"] not in names:
                names.append(r["bench"])
        for name in names:
            cells, used = [f"`{name}`"], []
            for key, _ in columns:
                found = next((r for r in rows if r["bench"] == name and r["backend"] == key), None)
                cells.append(cell(found) if found else "")
                if throughput:
                    cells.append(per_second(found["per_second"]) if found and "per_second" in found else "")
                if found and found["run"] not in used:
                    used.append(found["run"])
            cells.append(", ".join(str(u) for u in used))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        for name, ref in REFERENCES.items():
            if ref["beside"] == group and name in refs:
                r = refs[name]
                lines += [f"Reference, {ref['label']}: **{seconds(r['best_seconds'])}** "
                          f"(`{r['command']}`, {r['date']}, commit {r['commit']}, {r['machine']}).", ""]
        if group == "minilm" and refs.get("pretrained_pytorch"):
            p = refs["pretrained_pytorch"]
            lines += [f"Reference, PyTorch {p['torch']} eager fp32 inference of the same shape "
                      f"({p['threads']} threads): **{p['texts_per_second']} texts/s**, from "
                      f"[pretrained.json](pretrained.json) (`{p['command']}`, {p['date']}, commit "
                      f"{p['commit']}, {p['machine']}): another run, compare with care.", ""]
    lines += [
        "## Rerun",
        "",
        "```sh",
        "python3 scripts/results/benchmarks.py --fresh --references   # everything, on an idle machine",
        "python3 scripts/results/benchmarks.py --backend flex --bench stages --filter tokenize",
        "```",
        "",
        "The figures of the hand-written page this one replaced, and their history, are in git "
        "(`git log -p docs/results/benchmarks.md`). Peak memory of the CLI is measured by "
        "`scripts/results/quick.py` ([textflix/quick/timing.json](textflix/quick/timing.json)).",
        "",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=("flex", "tch", "both"), default="both")
    ap.add_argument("--bench", action="append", choices=BENCHES,
                    help="a bench target (repeatable); default: all four")
    ap.add_argument("--filter", help="criterion's filter, a regex on the bench id (group/name)")
    ap.add_argument("--fresh", action="store_true", help="drop the results of earlier runs")
    ap.add_argument("--references", action="store_true",
                    help="also time the Python references (transformers' tokenizer, scikit-learn's "
                         "NB-SVM, Python's tarfile) with --python")
    ap.add_argument("--python", default=os.path.expanduser("~/.venvs/torch/bin/python"))
    ap.add_argument("--render-only", action="store_true", help="render benchmarks.md from benchmarks.json")
    ap.add_argument("--check", action="store_true", help="exit 1 if benchmarks.md differs from its render")
    a = ap.parse_args()

    doc = load()
    if a.check:
        check_page(MD, markdown(doc), "python3 scripts/results/benchmarks.py --render-only")
        return
    if not a.render_only:
        benches = a.bench or BENCHES
        os.makedirs(TARGET, exist_ok=True)
        home = tempfile.mkdtemp(prefix="criterion-", dir=TARGET)
        try:
            started = time.time() - 1
            command = cargo_bench(benches, a.backend, a.filter, home)
            results = read_criterion(home, started)
        finally:
            shutil.rmtree(home, ignore_errors=True)
        if not results:
            sys.exit("criterion wrote no results: does the filter match any bench?")
        script = " ".join(["python3 scripts/results/benchmarks.py", *sys.argv[1:]])
        run = {"date": today(), "commit": commit(), "machine": machine(), "command": script,
               "cargo": command}
        if a.fresh:
            doc = {"runs": [], "results": [], "references": doc.get("references", {}) if not a.references else {}}
        measured = {(r["id"], r["backend"]) for r in results}
        kept = [r for r in doc["results"] if (r["id"], r["backend"]) not in measured]
        # Renumber the runs still referenced, oldest first, then this one.
        used = sorted({r["run"] for r in kept})
        renumber = {old: new for new, old in enumerate(used, 1)}
        doc["runs"] = [doc["runs"][old - 1] for old in used] + [run]
        for r in kept:
            r["run"] = renumber[r["run"]]
        for r in results:
            r["run"] = len(doc["runs"])
        doc["results"] = sorted(kept + results, key=lambda r: r["id"])
        refs = doc.setdefault("references", {})
        if a.references:
            refs.update(run_references(a.python))
        pretrained = snapshot_pretrained()
        if pretrained:
            refs["pretrained_pytorch"] = pretrained
        write(JSON, doc)
    write_text(MD, markdown(doc))
    print(f"wrote {MD}")


if __name__ == "__main__":
    main()
