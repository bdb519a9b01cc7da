#!/usr/bin/env python3
"""Side-by-side speed: `transfer speed` and the PyTorch reference, in one run on one machine.

    python3 scripts/speed_harness.py --transfer target/release/transfer \
        --model $TRANSFER_ASSETS/models/all-MiniLM-L6-v2 --reference $TRANSFER_ASSETS/reference \
        --device cpu --backends cpu,tch --machine "2-core Xeon" --out docs/results/speed.json

--device cpu runs reference/pytorch_minilm_cpu.py (batch 32, 128 and 256 tokens, eager fp32);
--device cuda runs the throughput part of reference/pytorch_minilm.py (batch 32 x 256 training,
256 x 256 inference, fp32 and bf16 autocast) on a tiny stand-in dataset and stops it there.
Each measurement is appended to --out as {"what", "backend", "machine", "ours", "reference",
"ratio", "date", "commit"} (ratio = ours / reference; examples per second, higher is better). On CPU, --rounds N
runs the reference and ours N times, interleaved, and records the medians (the reference times
only 2 training steps and 3 inference batches, so one round moves by ±15 % on a shared VM);
--same-allocator gives the reference the glibc malloc thresholds that `transfer` sets itself.
Appending to docs/results/speed.json renders docs/results/speed.md again
(scripts/results/speed.py). Another encoder on CPU: --name NAME --reference-script
scripts/pytorch_encoder_speed.py (the same measurement for any AutoModel) --seqs 128.
"""
import argparse, gzip, json, os, platform, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
import common  # noqa: E402  (date, commit and machine of each record)
import speed  # noqa: E402  (renders docs/results/speed.md from speed.json)


# What transfer::allocator::keep_freed_memory sets in `transfer` (mmap and trim thresholds).
SAME_ALLOCATOR = "glibc.malloc.mmap_threshold=2147483647:glibc.malloc.trim_threshold=2147483647"


def ours(binary, model, device, precision, seq, batch, steps, warmup, infer_batch, infer_batches):
    cmd = [binary, "speed", "--model", model, "--device", device, "--precision", precision,
           "--seq", str(seq), "--batch-size", str(batch), "--train-steps", str(steps),
           "--warmup", str(warmup), "--infer-batch-size", str(infer_batch),
           "--infer-batches", str(infer_batches)]
    print("+", " ".join(cmd), flush=True)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    print("  ours:", result, flush=True)
    return result


def cpu_reference(python, script, model, seqs, tunables=None):
    env = dict(os.environ, GLIBC_TUNABLES=tunables) if tunables else None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ref.json")
        extra = [] if script.endswith("pytorch_minilm_cpu.py") else ["--seqs", ",".join(map(str, seqs))]
        subprocess.run([python, script, model, path] + extra, check=True, env=env)
        return json.load(open(path))


def cuda_reference(python, reference, model):
    """The reference's throughput section; its learning curve is not needed here."""
    with tempfile.TemporaryDirectory() as tmp:
        for split in ("train", "test"):
            with gzip.open(os.path.join(tmp, f"imdb_{split}.jsonl.gz"), "wt") as f:
                for i in range(40):
                    f.write(json.dumps({"text": f"a {'good' if i % 2 else 'bad'} film number {i}",
                                        "label": i % 2, "file": f"{i}_1.txt"}) + "\n")
        anchor = os.path.join(tmp, "hf_anchor.json")
        proc = subprocess.Popen([python, os.path.join(reference, "pytorch_minilm.py"), model, tmp, tmp])
        try:
            while proc.poll() is None:
                time.sleep(1)
                try:
                    res = json.load(open(anchor))
                except (OSError, ValueError):
                    continue
                if "minilm_l6_bf16" in res.get("throughput", {}):
                    return res
            raise SystemExit(f"reference exited ({proc.returncode}) before its throughput")
        finally:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--transfer", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--reference", required=True, help="the reference/ folder of the assets")
    ap.add_argument("--python", default=sys.executable, help="a python with torch and transformers")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--backends", default="cpu,tch", help="our CPU backends (--device cpu)")
    ap.add_argument("--machine", default=common.machine())
    ap.add_argument("--rounds", type=int, default=1, help="CPU: medians over this many runs")
    ap.add_argument("--same-allocator", action="store_true",
                    help="CPU: run the reference with the glibc malloc thresholds `transfer` sets "
                         "(transfer::allocator::keep_freed_memory)")
    ap.add_argument("--name", default="MiniLM-L6", help="the model's name in each record")
    ap.add_argument("--reference-script", default=None,
                    help="CPU: the PyTorch side (default: the reference's pytorch_minilm_cpu.py, "
                         "which hard-codes MiniLM's 384 wide head; scripts/pytorch_encoder_speed.py "
                         "for any encoder)")
    ap.add_argument("--seqs", default="128,256", help="CPU: sequence lengths")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    seqs = [int(s) for s in a.seqs.split(",")]
    script = a.reference_script or os.path.join(a.reference, "pytorch_minilm_cpu.py")

    entries = []
    def add(what, backend, mine, theirs):
        entry = {"what": what, "backend": backend, "machine": a.machine,
                 "ours": round(mine, 2), "reference": round(theirs, 2),
                 "ratio": round(mine / theirs, 3), "date": common.today(), "commit": common.commit()}
        if a.rounds > 1:
            entry["rounds"] = a.rounds
        if a.same_allocator:
            entry["reference_env"] = "GLIBC_TUNABLES=" + SAME_ALLOCATOR
        entries.append(entry)
        print(f"{what:55s} {backend:22s} ours {mine:9.1f}  reference {theirs:9.1f}  ratio {mine / theirs:.2f}", flush=True)

    if a.device == "cpu":
        backends = a.backends.split(",")
        refs, mine = [], {(b, seq): [] for b in backends for seq in seqs}
        for _ in range(a.rounds):
            refs.append(cpu_reference(a.python, script, a.model, seqs,
                                      SAME_ALLOCATOR if a.same_allocator else None))
            for backend in backends:
                for seq in seqs:
                    mine[backend, seq].append(ours(a.transfer, a.model, backend, "f32", seq, 32, 2, 1, 32, 3))
        median = lambda runs, key: statistics.median(r[key] for r in runs)
        for backend in backends:
            for seq in seqs:
                theirs = [r[f"seq{seq}"] for r in refs]
                name = {"cpu": "flex (pure Rust)", "tch": "tch (libtorch CPU)"}.get(backend, backend)
                add(f"{a.name} fine-tuning step, batch 32 x {seq}, fp32", name,
                    median(mine[backend, seq], "train_examples_per_s"), median(theirs, "train_examples_per_s"))
                add(f"{a.name} inference, batch 32 x {seq}, fp32", name,
                    median(mine[backend, seq], "infer_examples_per_s"), median(theirs, "infer_examples_per_s"))
    else:
        ref = cuda_reference(a.python, a.reference, a.model)["throughput"]
        for precision, key in (("f32", "minilm_l6_fp32"), ("bf16", "minilm_l6_bf16")):
            r = ours(a.transfer, a.model, "cuda", precision, 256, 32, 30, 5, 256, 10)
            label = "fp32" if precision == "f32" else "bf16 mixed"
            add(f"MiniLM-L6 fine-tuning step, batch 32 x 256, {label}", "tch (libtorch CUDA)",
                r["train_examples_per_s"], ref[key]["train_examples_per_s"])
            add(f"MiniLM-L6 inference, batch 256 x 256, {label}", "tch (libtorch CUDA)",
                r["infer_examples_per_s"], ref[key]["infer_examples_per_s"])

    previous = json.load(open(a.out)) if os.path.exists(a.out) else []
    with open(a.out + ".tmp", "w") as f:
        json.dump(previous + entries, f, indent=1)
    os.replace(a.out + ".tmp", a.out)
    if os.path.abspath(a.out) == os.path.join(common.ROOT, speed.JSON):
        speed.render()


if __name__ == "__main__":
    main()
