#!/usr/bin/env python3
"""PyTorch (transformers) throughput of any encoder on CPU, eager fp32, measured as
reference/pytorch_minilm_cpu.py measures MiniLM: random ids 1000..20000 filling every
position, an all-ones mask, a linear head on the mean of the last hidden states, AdamW at 1e-5;
inference: 3 timed batches after 1 untimed; training: 2 timed steps after 1 untimed.

    python3 scripts/pytorch_encoder_speed.py MODEL_DIR OUT.json [--seqs 128,256] [--batch 32]

Writes {"torch", "threads", "model_type", "seq128": {"infer_examples_per_s",
"train_examples_per_s"}, ...}; scripts/speed_harness.py --reference-script runs it beside
`transfer speed`.
"""
import argparse, json, time

import torch
import torch.nn.functional as F
from transformers import AutoModel


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--seqs", default="128,256")
    ap.add_argument("--batch", type=int, default=32)
    a = ap.parse_args()
    torch.manual_seed(0)
    model = AutoModel.from_pretrained(a.model)
    hidden = model.config.hidden_size
    head = torch.nn.Linear(hidden, 2)
    res = {"torch": torch.__version__, "threads": torch.get_num_threads(),
           "model_type": model.config.model_type}
    for seq in (int(s) for s in a.seqs.split(",")):
        ids = torch.randint(1000, 20000, (a.batch, seq))
        mask = torch.ones_like(ids)
        model.eval()
        with torch.no_grad():
            model(input_ids=ids, attention_mask=mask)
            started = time.time()
            for _ in range(3):
                model(input_ids=ids, attention_mask=mask)
            infer = a.batch * 3 / (time.time() - started)
        model.train()
        opt = torch.optim.AdamW(list(model.parameters()) + list(head.parameters()), lr=1e-5)
        y = torch.randint(0, 2, (a.batch,))

        def step():
            states = model(input_ids=ids, attention_mask=mask).last_hidden_state
            loss = F.cross_entropy(head(states.mean(1)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

        step()
        started = time.time()
        for _ in range(2):
            step()
        train = a.batch * 2 / (time.time() - started)
        res[f"seq{seq}"] = {"infer_examples_per_s": infer, "train_examples_per_s": train}
        print(seq, res[f"seq{seq}"], flush=True)
    json.dump(res, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
