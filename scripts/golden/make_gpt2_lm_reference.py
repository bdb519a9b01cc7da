"""Records what transformers' GPT2LMHeadModel computes with the tiny GPT-2 checkpoint in
tests/data/families/gpt2 (made by make_family_checkpoints.py), for the Rust causal language
model's golden test (tests/causal_lm.rs).

usage: ~/.venvs/torch/bin/python scripts/golden/make_gpt2_lm_reference.py

The checkpoint is a GPT2Model; GPT2LMHeadModel loads it with `lm_head` tied to `wte`, as every
released GPT-2 is. For the batch of reference.safetensors (4 texts, right-padded with
<|endoftext|>), writes tests/data/families/gpt2/lm_reference.safetensors:
  logits_last       f32 [4, V]  the logits at each text's last real token
  token_logprobs    f32 [4, S-1] log p(ids[j+1] | ids[..=j]), 0 where ids[j+1] is padding
  loss              f32 [1]     transformers' loss with labels = input_ids, -100 on padding
                                (mean next-token cross-entropy over the real targets)
  grad.<name>       every parameter's gradient of that loss (base model names, wte's gradient
                    includes the tied head's)
  prompt_ids, generated_ids   int64: greedy generate(max_new_tokens=12) from PROMPT
and lm_reference.json (versions, the prompt, the generated text).
"""
import json
from pathlib import Path

import safetensors.torch
import torch
import transformers
from transformers import AutoTokenizer, GPT2LMHeadModel

ROOT = Path(__file__).resolve().parents[2]
DIR = ROOT / "tests" / "data" / "families" / "gpt2"
PROMPT = "This movie was"
NEW_TOKENS = 12
COMMAND = "~/.venvs/torch/bin/python scripts/golden/make_gpt2_lm_reference.py"


def main():
    torch.set_num_threads(2)
    ref = safetensors.torch.load_file(str(DIR / "reference.safetensors"))
    ids, mask = ref["input_ids"], ref["attention_mask"]
    model = GPT2LMHeadModel.from_pretrained(DIR, attn_implementation="eager").eval()
    assert model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr(), "tied"
    labels = ids.masked_fill(mask == 0, -100)
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    out.loss.backward()
    logits = out.logits.detach()
    lengths = mask.sum(1)
    last = logits[torch.arange(ids.shape[0]), lengths - 1]
    logprobs = torch.log_softmax(logits[:, :-1], -1).gather(2, ids[:, 1:, None])[..., 0]
    logprobs = logprobs * mask[:, 1:]
    tensors = {
        "logits_last": last.contiguous(),
        "token_logprobs": logprobs.contiguous(),
        "loss": out.loss.detach().reshape(1),
    }
    for name, p in model.transformer.named_parameters():
        tensors[f"grad.{name}"] = p.grad.detach().clone().contiguous()

    tok = AutoTokenizer.from_pretrained(DIR)
    prompt = tok(PROMPT, return_tensors="pt")
    with torch.no_grad():
        generated = model.generate(**prompt, max_new_tokens=NEW_TOKENS, do_sample=False,
                                   pad_token_id=tok.eos_token_id)
    tensors["prompt_ids"] = prompt["input_ids"][0].contiguous()
    tensors["generated_ids"] = generated[0, prompt["input_ids"].shape[1]:].contiguous()
    safetensors.torch.save_file(tensors, str(DIR / "lm_reference.safetensors"))
    record = {
        "command": COMMAND,
        "model_class": "GPT2LMHeadModel",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "loss": out.loss.item(),
        "labels": "input_ids with -100 where attention_mask is 0",
        "prompt": PROMPT,
        "max_new_tokens": NEW_TOKENS,
        "generated_text": tok.decode(tensors["generated_ids"]),
        "parameters_with_gradient": len([k for k in tensors if k.startswith("grad.")]),
    }
    (DIR / "lm_reference.json").write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
