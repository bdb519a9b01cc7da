#!/usr/bin/env python3
"""A randomly initialised ModernBERT-base-shaped checkpoint for throughput measurements
(speed does not depend on the weights; no ModernBERT can be downloaded here):
transformers' ModernBertConfig defaults (22 layers, hidden 768, GeGLU 1152, global attention
every 3rd layer, local window 128) with all-mpnet-base-v2's WordPiece tokenizer and vocabulary
size (30,527 + 1), saved with save_pretrained.

    python3 scripts/make_speed_checkpoints.py MPNET_DIR OUT_DIR
"""
import json, os, shutil, sys

import torch
from transformers import ModernBertConfig, ModernBertModel


def main():
    mpnet, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    config = ModernBertConfig(vocab_size=30528, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                              cls_token_id=0, sep_token_id=2)
    ModernBertModel(config).save_pretrained(out)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if os.path.exists(os.path.join(mpnet, name)):
            shutil.copy(os.path.join(mpnet, name), os.path.join(out, name))
    print(json.dumps({"out": out, "layers": config.num_hidden_layers,
                      "hidden": config.hidden_size}))


if __name__ == "__main__":
    main()
