"""Times the README's main job (the quick Textflix study, `cargo run --release --example
textflix`) from a fresh output directory and writes docs/results/textflix/quick/timing.json;
fails if its cells differ from the committed docs/results/textflix/quick/results.json.

    python3 scripts/results/quick.py        (from the repository root; about 7 minutes)
"""

import json
import os
import shutil
import tempfile

from common import ROOT, binary, build, commit, machine, run, today, write


def main():
    build(["--example", "textflix", "-p", "transfer-textflix"])
    out = tempfile.mkdtemp(prefix="textflix-quick-")
    try:
        _, wall, peak = run([binary("textflix", example=True), "--out", out])
        with open(os.path.join(out, "results.json")) as f:
            cells = json.load(f)
    finally:
        shutil.rmtree(out)
    with open(os.path.join(ROOT, "docs/results/textflix/quick/results.json")) as f:
        committed = json.load(f)
    key = lambda c: (c["model"], c["n"], c["seed"])
    same = {key(c): c["accuracy"] for c in cells} == {key(c): c["accuracy"] for c in committed}
    write("docs/results/textflix/quick/timing.json", {
        "command": "python3 scripts/results/quick.py",
        "job": "cargo run --release --example textflix",
        "backend": "flex (pure Rust CPU)",
        "date": today(),
        "commit": commit(),
        "machine": machine(),
        "wall_seconds": wall,
        "wall_minutes": round(wall / 60, 1),
        "peak_rss_mb": peak,
        "cells": len(cells),
        "cells_equal_committed_results": same,
    })
    if not same:
        raise SystemExit("the quick study's cells differ from docs/results/textflix/quick/results.json")


if __name__ == "__main__":
    main()
