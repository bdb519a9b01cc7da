#!/usr/bin/env python3
"""Host time per step: ours and PyTorch's on a BERT too small to compute anything.

    python3 scripts/host_overhead.py --transfer target/release/transfer \
        --model $TRANSFER_ASSETS/models/all-MiniLM-L6-v2 --python ~/.venvs/torch/bin/python \
        --device cpu --rounds 3

A randomly initialised BERT with MiniLM-L6's depth (6 layers) but 32 hidden units, 4 heads and
64 intermediate units (the tokenizer is --model's), batch 2 x 16 tokens: the arithmetic is
negligible, so a step's time is what the host spends issuing it (autodiff graph, dispatch,
optimizer). On a GPU that time overlaps with the device's only if it is shorter, which is
what this measures. Ours: `transfer speed` (fused ops on, then TRANSFER_FUSED=0); PyTorch:
HF transformers + torch.optim.AdamW with foreach=True (its default on CUDA) and foreach=False.
Medians of --rounds interleaved rounds; with --out, appended to docs/results/speed.json's list
(which renders docs/results/speed.md again).
"""
import argparse, json, os, platform, shutil, statistics, subprocess, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
import common  # noqa: E402  (date, commit and machine of each record)
import speed  # noqa: E402  (renders docs/results/speed.md from speed.json)

TINY = dict(hidden_size=32, num_hidden_layers=6, num_attention_heads=4, intermediate_size=64)
BATCH, SEQ = 2, 16

MAKE = """
import sys, torch
from transformers import BertConfig, BertModel
torch.manual_seed(0)
BertModel(BertConfig(vocab_size=30522, **{tiny})).save_pretrained(sys.argv[1], safe_serialization=True)
"""

REFERENCE = """
import sys, time, json, torch, torch.nn.functional as F
from transformers import AutoModel
dev = torch.device(sys.argv[2]); steps = int(sys.argv[3]); bs, seq = {batch}, {seq}
torch.manual_seed(0); m = AutoModel.from_pretrained(sys.argv[1]).to(dev)
head = torch.nn.Linear(m.config.hidden_size, 2).to(dev)
ids = torch.randint(1000, 20000, (bs, seq), device=dev); mask = torch.ones_like(ids)
y = torch.randint(0, 2, (bs,), device=dev)
sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
out = {{}}
for foreach in (True, False):
    m.train(); opt = torch.optim.AdamW(list(m.parameters()) + list(head.parameters()), lr=1e-5, foreach=foreach)
    def step():
        h = m(input_ids=ids, attention_mask=mask).last_hidden_state.mean(1)
        loss = F.cross_entropy(head(h), y); opt.zero_grad(); loss.backward(); opt.step()
    for _ in range(5): step()
    sync(); t = time.time()
    for _ in range(steps): step()
    sync(); out["train_ms_foreach" if foreach else "train_ms"] = (time.time() - t) / steps * 1e3
m.eval()
with torch.no_grad():
    for _ in range(5): m(input_ids=ids, attention_mask=mask)
    sync(); t = time.time()
    for _ in range(steps): m(input_ids=ids, attention_mask=mask)
    sync(); out["infer_ms"] = (time.time() - t) / steps * 1e3
print(json.dumps(out))
"""


def tiny_model(python, model, where):
    subprocess.run([python, "-c", MAKE.format(tiny=TINY), where], check=True,
                   capture_output=True)
    for name in os.listdir(model):
        if name != "config.json" and not name.endswith((".safetensors", ".bin")):
            src = os.path.join(model, name)
            (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, os.path.join(where, name))


def reference(python, tiny, device, steps):
    out = subprocess.run([python, "-c", REFERENCE.format(batch=BATCH, seq=SEQ), tiny,
                          "cuda" if device == "cuda" else "cpu", str(steps)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def ours(binary, tiny, device, steps, fused):
    env = dict(os.environ)
    if not fused:
        env["TRANSFER_FUSED"] = "0"
    cmd = [binary, "speed", "--model", tiny, "--device", "cuda" if device == "cuda" else "tch",
           "--seq", str(SEQ), "--batch-size", str(BATCH), "--train-steps", str(steps),
           "--warmup", "5", "--infer-batch-size", str(BATCH), "--infer-batches", str(steps)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return {"train_ms": BATCH / r["train_examples_per_s"] * 1e3,
            "infer_ms": BATCH / r["infer_examples_per_s"] * 1e3}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--transfer", required=True)
    p.add_argument("--model", required=True, help="a BERT checkpoint dir: its tokenizer is used")
    p.add_argument("--python", default="python3", help="a Python with torch and transformers")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--machine", default=common.machine())
    p.add_argument("--out", help="append the medians to this JSON list")
    a = p.parse_args()
    runs = {"ours": [], "ours_unfused": [], "reference": []}
    with tempfile.TemporaryDirectory() as tiny:
        tiny_model(a.python, a.model, tiny)
        for _ in range(a.rounds):
            runs["reference"].append(reference(a.python, tiny, a.device, a.steps))
            runs["ours"].append(ours(a.transfer, tiny, a.device, a.steps, True))
            runs["ours_unfused"].append(ours(a.transfer, tiny, a.device, a.steps, False))
            print(json.dumps({k: v[-1] for k, v in runs.items()}), flush=True)
    med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in runs.items()}
    print(json.dumps(med, indent=1))
    backend = "tch (libtorch CUDA)" if a.device == "cuda" else "tch (libtorch CPU)"
    rows = [
        ("training step", med["ours"]["train_ms"], med["reference"]["train_ms_foreach"]),
        ("inference batch", med["ours"]["infer_ms"], med["reference"]["infer_ms"]),
    ]
    records = []
    for what, o, r in rows:
        print(f"{what}: ours {o:.2f} ms, PyTorch {r:.2f} ms, ratio {r / o:.2f} (higher is better)")
        records.append({
            "what": f"host time per {what}: 6-layer BERT with 32 hidden units, batch {BATCH} x {SEQ}, "
                    "fp32 (examples/s)",
            "backend": backend, "machine": a.machine, "ours": round(BATCH / o * 1e3, 1),
            "reference": round(BATCH / r * 1e3, 1), "ratio": round(r / o, 3),
            "rounds": a.rounds,
            "reference_optimizer": "torch.optim.AdamW(foreach=True)" if what == "training step" else None,
            "date": common.today(), "commit": common.commit(),
        })
    if a.out:
        existing = json.load(open(a.out)) if os.path.exists(a.out) else []
        json.dump(existing + records, open(a.out, "w"), indent=1)
        if os.path.abspath(a.out) == os.path.join(common.ROOT, speed.JSON):
            speed.render()


if __name__ == "__main__":
    main()
