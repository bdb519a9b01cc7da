#!/usr/bin/env python3
"""Integrated gradients by Captum on all-MiniLM-L6-v2 under a fixed mean-pooled linear head:
the reference tests/explain.rs checks the library's integrated gradients against.

Writes tests/fixtures/captum/head.safetensors (the head, seeded, in the library's tensor
names and layout) and tests/fixtures/captum/ig.json (per text: the tokens' offsets, Captum's
attributions summed over each embedding, its convergence delta, the probabilities).

    ~/.venvs/torch/bin/pip install torch==2.11.0 transformers==5.25.0 captum==0.8.0
    ~/.venvs/torch/bin/python scripts/captum_ig.py [--model $TRANSFER_ASSETS/models/all-MiniLM-L6-v2]
"""
import argparse
import json
import os
from pathlib import Path

import captum
import torch
import transformers
from captum.attr import IntegratedGradients
from safetensors.torch import save_file
from transformers import AutoTokenizer, BertModel

TEXTS = [
    "An absolutely wonderful film: brilliant acting, a moving story and a superb score. I loved it.",
    "Dreadfully boring, the plot goes nowhere and the ending is a waste of everyone's time.",
    "Unbelievably overacted yet strangely watchable.",
]
CLASS = 1
STEPS = 20


def main():
    parser = argparse.ArgumentParser()
    assets = os.environ.get("TRANSFER_ASSETS", "../shared")
    parser.add_argument("--model", default=f"{assets}/models/all-MiniLM-L6-v2")
    parser.add_argument("--out", default="tests/fixtures/captum")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    bert = BertModel.from_pretrained(args.model, attn_implementation="eager").eval()
    dim = bert.config.hidden_size
    head = torch.nn.Linear(dim, 2)
    with torch.no_grad():
        head.weight.normal_(0.0, 0.5)
        head.bias.uniform_(-0.1, 0.1)
    # The library's Linear keeps its weight as [input, output].
    save_file(
        {"output.weight": head.weight.detach().T.contiguous(), "output.bias": head.bias.detach()},
        str(out / "head.safetensors"),
    )

    def probability(embedded):
        states = bert.encoder(embedded).last_hidden_state
        return torch.softmax(head(states.mean(dim=1)), dim=-1)[:, CLASS]

    rows = []
    for text in TEXTS:
        encoded = tokenizer(text, return_offsets_mapping=True, return_tensors="pt")
        ids = encoded["input_ids"]
        special = torch.tensor(
            tokenizer.get_special_tokens_mask(ids[0].tolist(), already_has_special_tokens=True)
        ).bool()
        baseline_ids = torch.where(special, ids[0], torch.tensor(tokenizer.pad_token_id))[None]
        with torch.no_grad():
            inputs = bert.embeddings(input_ids=ids)
            baseline = bert.embeddings(input_ids=baseline_ids)
            ends = probability(torch.cat([inputs, baseline]))
            probabilities = torch.softmax(
                head(bert.encoder(inputs).last_hidden_state.mean(dim=1)), dim=-1
            )[0]
        ig = IntegratedGradients(probability)
        attributions, delta = ig.attribute(
            inputs, baselines=baseline, n_steps=STEPS, method="gausslegendre",
            return_convergence_delta=True,
        )
        rows.append({
            "text": text,
            "offsets": encoded["offset_mapping"][0].tolist(),
            "special": special.tolist(),
            "scores": attributions.sum(dim=-1)[0].tolist(),
            "delta": float(delta[0]),
            "probability": float(ends[0]),
            "baseline_probability": float(ends[1]),
            "probabilities": probabilities.tolist(),
        })
    (out / "ig.json").write_text(json.dumps({
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "class": CLASS,
        "steps": STEPS,
        "method": "gausslegendre",
        "baseline": "padding (special tokens kept)",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "captum": captum.__version__},
        "texts": rows,
    }, indent=1) + "\n")
    print(json.dumps([{"delta": r["delta"], "p": r["probability"]} for r in rows]))


if __name__ == "__main__":
    main()
