"""Writes docs/results/families.json and families.md: every encoder family that
`PretrainedEncoder::load` reads (BERT, RoBERTa, XLM-RoBERTa, DistilBERT, ELECTRA, MPNet, as the
tiny transformers-made checkpoints of tests/data/families, and the real all-mpnet-base-v2),
exported again by `examples/export_encoder.rs`, loaded by transformers' AutoModel and
AutoTokenizer, and compared with transformers' own hidden states of the original checkpoint
(scripts/check_family_exports.py).

    python3 scripts/results/families.py                (from the repository root; about a
                                                        minute after the build; needs torch and
                                                        transformers in ~/.venvs/torch, and
                                                        all-mpnet-base-v2 under
                                                        $TRANSFER_MODELS, default
                                                        ~/.cache/transfer-models, or it is
                                                        skipped)
    python3 scripts/results/families.py --render-only  families.md from families.json
    python3 scripts/results/families.py --check        exit 1 if families.md is not what
                                                        families.json renders to
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

from common import ROOT, binary, build, check_page, commit, machine, run, today, write, write_text

JSON = "docs/results/families.json"
MD = "docs/results/families.md"
COMMAND = "python3 scripts/results/families.py"
PYTHON = "~/.venvs/torch/bin/python"
CHECKER = "scripts/check_family_exports.py"
TINY = ["bert", "roberta", "xlm-roberta", "distilbert", "electra", "mpnet", "modernbert", "gpt2",
        "deberta-v2"]
MODELS = os.environ.get("TRANSFER_MODELS", os.path.expanduser("~/.cache/transfer-models"))
REAL = ("all-mpnet-base-v2", os.path.join(MODELS, "all-mpnet-base-v2"),
        "tests/data/all-mpnet-base-v2-golden")


def models():
    """(name, model directory, reference directory) for every model the page covers."""
    tiny = [(n, f"tests/data/families/{n}", f"tests/data/families/{n}") for n in TINY]
    return tiny + [REAL]


def model_type(directory):
    with open(os.path.join(ROOT, directory, "config.json")) as f:
        return json.load(f).get("model_type")


def run_checker(command, name):
    """Runs check_family_exports.py; its process and the JSON object it printed."""
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    try:
        return done, json.loads(done.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(done.stderr)
        sys.stderr.write(done.stdout)
        raise SystemExit(f"{CHECKER} printed no result for {name} (exit {done.returncode})")


def measure():
    build(["--example", "export_encoder"])
    exporter = binary("export_encoder", example=True)
    python = os.path.expanduser(PYTHON)
    home = os.path.expanduser("~")
    rows, commands = [], ["cargo build --release --example export_encoder --quiet"]
    with tempfile.TemporaryDirectory() as tmp:

        def shown(command):
            """The command as run: the temporary directory as $TMP, the home directory as ~,
            the example binary by its name."""
            words = ["export_encoder" if w == exporter else PYTHON if w == python else
                     w.replace(tmp, "$TMP").replace(home, "~") for w in command]
            return " ".join(shlex.quote(w) if not w.startswith(("$TMP", "~")) else w
                            for w in words)

        for name, model_dir, reference_dir in models():
            if not os.path.isfile(os.path.join(ROOT, model_dir, "model.safetensors")):
                rows.append({"name": name, "model_dir": shown([model_dir]),
                             "skipped": f"no model.safetensors in {shown([model_dir])} "
                                        "($TRANSFER_ASSETS/scripts/fetch_mpnet.sh assembles it)"})
                print(f"{name}: skipped, {model_dir} is missing", file=sys.stderr)
                continue
            out = os.path.join(tmp, name)
            export = [exporter, model_dir, out]
            printed, wall, peak = run(export)
            check = [python, CHECKER, out, reference_dir]
            done, result = run_checker(check, name)
            result.pop("tensor_names")
            # The control: transformers on the original checkpoint against the same reference
            # (a reference made on another machine can differ by rounding alone).
            control = [python, CHECKER, model_dir, reference_dir]
            original_diff = run_checker(control, f"{name} (original)")[1]["max_abs_diff"]
            result = {k: v.replace(tmp, "$TMP").replace(home, "~") if isinstance(v, str) else v
                      for k, v in result.items()}
            commands += [shown(export), shown(check), shown(control)]
            exported = printed[-1] if printed else {}
            rows.append({
                "name": name,
                "model_dir": shown([model_dir]),
                "reference_dir": reference_dir,
                "model_type_read": model_type(model_dir),
                "model_type_exported": model_type(out),
                "family": exported.get("family"),
                "transformers_loaded": result["transformers_loaded"],
                "tokenizer_loaded": result["tokenizer_loaded"],
                "ids_equal": result["ids_equal"],
                "max_abs_diff": result["max_abs_diff"],
                "original_max_abs_diff": original_diff,
                "parameters": exported.get("parameters"),
                "export_wall_seconds": wall,
                "export_peak_rss_mb": peak,
                "passed": done.returncode == 0,
                "check_family_exports": result,
            })
            status = "ok" if done.returncode == 0 else "FAILED"
            print(f"{name}: {status} (ids equal {result['ids_equal']}, "
                  f"max abs diff {result['max_abs_diff']})", file=sys.stderr)

    return {
        "command": COMMAND,
        "date": today(),
        "commit": commit(),
        "machine": machine(),
        "backend": "flex (pure Rust CPU) for the export; transformers on CPU for the check",
        "tolerance": 1e-4,
        "commands": commands,
        "models": rows,
    }


def fmt_diff(d):
    return "–" if d is None else "0" if d == 0 else f"{d:.1e}"


def markdown(doc):
    rows = [r for r in doc["models"] if "skipped" not in r]
    skipped = [r for r in doc["models"] if "skipped" in r]
    failed = [r for r in rows if not r["passed"]]
    lines = [
        "# Every encoder family, exported and checked with transformers",
        "",
        "<!-- Generated by scripts/results/families.py from families.json: do not edit. -->",
        "",
        f"Generated by `{doc['command']}` from [families.json](families.json); do not edit by "
        f"hand (`{doc['command']} --render-only` renders this page again, `--check` fails when it "
        f"differs). Written on {doc['date']} at commit {doc['commit']}; machine: {doc['machine']}; "
        f"backend {doc['backend']}.",
        "",
        "Each checkpoint is loaded by `PretrainedEncoder::load` (by its `config.json`'s "
        "`model_type`) and written back by `export_encoder` (`examples/export_encoder.rs`); "
        "transformers then loads the export with `AutoModel` (eager attention, fp32, CPU) and "
        "`AutoTokenizer`, tokenizes the reference texts as the reference was made, and its "
        "`last_hidden_state` is compared with transformers' own on the original checkpoint "
        "(`tests/data/families/<name>/reference.safetensors`: 4 texts, max length 64; "
        "all-mpnet-base-v2: `tests/data/all-mpnet-base-v2-golden`, 8 texts padded to 128) over "
        "the real (mask 1) positions.",
        "",
        "| model | `model_type` read | `model_type` exported | class transformers loaded | "
        "ids equal | largest abs. difference | the original's | parameters | check |",
        "| --- | --- | --- | --- | --- | --- | --- | ---: | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | `{r['model_type_read']}` | `{r['model_type_exported']}` | "
            f"`{r['transformers_loaded']}` | {'yes' if r['ids_equal'] else '**no**'} | "
            f"{fmt_diff(r['max_abs_diff'])} | {fmt_diff(r.get('original_max_abs_diff'))} | "
            f"{r['parameters']:,} | "
            f"{'passed' if r['passed'] else '**failed**'} |")
    for r in skipped:
        lines.append(f"| {r['name']} | – | – | – | – | – | – | – | skipped: {r['skipped']} |")
    passed = [r["name"] for r in rows if r["passed"]]
    lines += [
        "",
        "What this shows: our export of each of "
        + ", ".join(passed)
        + " loads in transformers and reproduces transformers' own hidden states of the original "
        f"checkpoint within the difference shown (the check fails above 1e-4). "
        "\"The original's\" is the same check run on the original checkpoint instead of the "
        "export: transformers against its own reference, which was made on another day and "
        "machine, so a difference there is rounding, and an export that equals it adds none. "
        "Parameters are the exported ones (embeddings and encoder); the export leaves out the "
        "pooler, which `last_hidden_state` does not use, so transformers reports "
        "`pooler.dense.*` as missing for the families that have one and initialises it afresh.",
        "",
    ]
    for r in failed:
        c = r["check_family_exports"]
        direct = c.get("tokenizer_json_direct")
        why = [
            f"**{r['name']} failed the check.** The checkpoint's `model_type` is "
            f"`{r['model_type_read']}`, the export's `{r['model_type_exported']}`; transformers "
            f"loaded `{c['transformers_loaded']}` and {c['tokenizer_loaded']}, whose ids "
            f"(shape {c['ids_shape']}) are not the reference's (shape {c['reference_ids_shape']})."
        ]
        if not c["tokenizer_config_json"]:
            why.append(
                "The export has no tokenizer_config.json, so AutoTokenizer takes the tokenizer "
                f"class of `model_type` `{r['model_type_exported']}`, which builds its own "
                "pipeline from tokenizer.json's vocabulary; that tokenizer.json holds a "
                f"`{c['tokenizer_json_model']}` model.")
        if direct:
            why.append(
                f"Tokenized with the export's tokenizer.json as it is ({direct['tokenizer']}), "
                f"the ids are {'equal' if direct['ids_equal'] else 'still not equal'}"
                + (f" and the largest difference is {fmt_diff(direct['max_abs_diff'])}"
                   if direct["ids_equal"] else "")
                + f": the first tokens are `{' '.join(direct['first_tokens_auto'])}` against "
                f"the reference's `{' '.join(direct['first_tokens_reference'])}`.")
        lines += [" ".join(why), ""]
    lines += [
        "The commands the script runs (`$TMP` is a temporary directory, removed afterwards; "
        "`export_encoder` is the release example binary, "
        "`$CARGO_TARGET_DIR/release/examples/export_encoder`; `check_family_exports.py` exits 1 "
        "when the ids differ or the difference is above 1e-4):",
        "",
        "```",
        *doc["commands"],
        "```",
        "",
        "`tests/families.rs` checks, in CI, that every family loads, matches transformers' "
        "reference ids and hidden states, exports in its own tensor names and reloads unchanged "
        "(it reloads with our loader, not with transformers; this page is the transformers side).",
        "",
    ]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--render-only", action="store_true", help="render families.md from families.json")
    ap.add_argument("--check", action="store_true", help="exit 1 if families.md differs from its render")
    a = ap.parse_args()
    if a.render_only or a.check:
        with open(os.path.join(ROOT, JSON)) as f:
            doc = json.load(f)
        if a.check:
            check_page(MD, markdown(doc), f"{COMMAND} --render-only")
            return
    else:
        doc = measure()
        write(JSON, doc)
    write_text(MD, markdown(doc))
    if not (a.render_only or a.check):
        failed = [r["name"] for r in doc["models"] if "skipped" not in r and not r["passed"]]
        if failed:
            raise SystemExit(f"wrote {JSON} and {MD}; the check failed for {', '.join(failed)}")


if __name__ == "__main__":
    main()
