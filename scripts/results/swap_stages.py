"""Writes docs/results/swap_stages.json and swap_stages.md: one IMDB task, three pipelines that
differ only in their stages (examples/swap_stages.rs), on the default flex backend.

    python3 scripts/results/swap_stages.py        (from the repository root; about 10 minutes)
"""

from common import binary, build, commit, machine, run, today, write, write_text


def markdown(doc):
    lines = [
        "# Swapping stages: one IMDB task, three pipelines",
        "",
        f"`{doc['example']}` ({doc['backend']}): {doc['train_examples']} balanced training reviews, "
        f"{doc['test_examples']} test reviews, max {doc['max_length']} tokens, mean pooling + "
        "linear head, AdamW with warm-up and linear decay, batch 16. Only the stage constructors "
        "change between rows.",
        "",
        f"Written by `{doc['command']}` on {doc['date']} at commit {doc['commit']}; machine: "
        f"{doc['machine']}; the example's wall time {doc['wall_seconds']} s, peak RSS "
        f"{doc['peak_rss_mb']} MB.",
        "",
        "| pipeline | frozen | epochs | learning rate | accuracy | macro-F1 | train time | test time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in doc["results"]:
        frozen = ", ".join(s.lower() for s in r["frozen"]) or "—"
        lines.append(f"| {r['pipeline']} | {frozen} | {r['epochs']} | {r['learning_rate']:g} | "
                     f"{100 * r['accuracy']:.1f} % | {r['macro_f1']:.3f} | {r['train_seconds']:.0f} s | "
                     f"{r['test_seconds']:.0f} s |")
    lines += [
        "",
        "The PyTorch references at n = 500 (`$TRANSFER_ASSETS/reference/`) differ in recipe: all "
        "25,000 test reviews, MiniLM fine-tuned with max 256 tokens, bf16 and ≥ 150 steps; frozen "
        "MiniLM embeddings + logistic regression with max 512 tokens; the CPU run here is shorter "
        "(128 tokens, 4 epochs = 128 steps) to finish in minutes. See "
        "[textflix/README.md](textflix/README.md) for the same-recipe comparison.",
        "",
    ]
    return "\n".join(lines)


def main():
    build(["--example", "swap_stages", "-p", "transfer-nlp"])
    results, wall, peak = run([binary("swap_stages", example=True)])
    doc = {
        "command": "python3 scripts/results/swap_stages.py",
        "example": "cargo run --release --example swap_stages",
        "backend": "flex (pure Rust CPU)",
        "date": today(),
        "commit": commit(),
        "machine": machine(),
        "wall_seconds": wall,
        "peak_rss_mb": peak,
        "train_examples": results[0]["train_examples"],
        "test_examples": results[0]["test_examples"],
        "max_length": results[0]["max_length"],
        "results": results,
    }
    write("docs/results/swap_stages.json", doc)
    write_text("docs/results/swap_stages.md", markdown(doc))


if __name__ == "__main__":
    main()
