#!/usr/bin/env python3
"""Chrome trace of PyTorch's MiniLM fine-tuning step, as `reference/pytorch_minilm.py` times it
(mean pooling, dropout, linear head, AdamW with its defaults, batch 32 x 256, fp32 or bf16
autocast), each step inside a `step` annotation for scripts/profile/trace_ops.py.

    python3 scripts/profile/pytorch_step_trace.py MODEL OUT.json [--bf16] [--device cuda]
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import AutoModel


class Classifier(nn.Module):
    def __init__(self, encoder):
        super().__init__()
        self.encoder, self.drop = encoder, nn.Dropout(0.1)
        self.head = nn.Linear(encoder.config.hidden_size, 2)

    def forward(self, ids, mask):
        h = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).to(h.dtype)
        return self.head(self.drop((h * m).sum(1) / m.sum(1).clamp(min=1e-9)))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model")
    p.add_argument("out")
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--device", default="cuda")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--steps", type=int, default=10)
    a = p.parse_args()
    dev = torch.device(a.device)
    model = Classifier(AutoModel.from_pretrained(a.model)).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5)
    ids = torch.randint(1000, 20000, (a.batch, a.seq), device=dev)
    mask, y = torch.ones_like(ids), torch.randint(0, 2, (a.batch,), device=dev)

    def step():
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=a.bf16):
            loss = F.cross_entropy(model(ids, mask), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    activities = [torch.profiler.ProfilerActivity.CPU]
    if dev.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        for _ in range(a.steps):
            with torch.profiler.record_function("step"):
                step()
        if dev.type == "cuda":
            torch.cuda.synchronize()
    prof.export_chrome_trace(a.out)


if __name__ == "__main__":
    main()
