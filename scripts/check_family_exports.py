"""Checks an encoder exported by `examples/export_encoder.rs` against Hugging Face transformers'
own outputs for the checkpoint it was exported from.

usage: ~/.venvs/torch/bin/python scripts/check_family_exports.py EXPORT_DIR REFERENCE_DIR

EXPORT_DIR is what the example wrote (config.json, tokenizer.json, model.safetensors).
REFERENCE_DIR is one of
  - tests/data/families/<name>/: reference.json "texts"; reference.safetensors `input_ids`,
    `attention_mask`, `last_hidden_state`, made with padding=True, truncation=True,
    max_length=64;
  - tests/data/all-mpnet-base-v2-golden/: reference.json "cases" texts and "max_length" (128);
    reference.safetensors `batch.input_ids`, `batch.attention_mask`, `batch.last_hidden_state`,
    the padded batch at that max length.

Loads the export with AutoTokenizer and AutoModel (eager attention, fp32, CPU), tokenizes the
reference texts as the reference was made, checks the ids and mask equal the reference's, and
compares last_hidden_state over the real (mask 1) positions. Prints one JSON object; exits 1 if
the ids differ or the difference is above 1e-4.
"""
import json
import os
import sys
import warnings

import torch
import transformers
from safetensors import safe_open
from safetensors.torch import load_file
from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerFast

TOLERANCE = 1e-4

export_dir, reference_dir = sys.argv[1], sys.argv[2]
torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))

with open(os.path.join(reference_dir, "reference.json"), encoding="utf-8") as f:
    meta = json.load(f)
ref = load_file(os.path.join(reference_dir, "reference.safetensors"))
if "input_ids" in ref:  # a tiny family checkpoint
    texts, max_length, prefix = meta["texts"], 64, ""
else:  # the all-mpnet-base-v2 golden: its padded batch
    texts, max_length, prefix = [c["text"] for c in meta["cases"]], meta["max_length"], "batch."
ref_ids, ref_mask = ref[prefix + "input_ids"], ref[prefix + "attention_mask"]
ref_states = ref[prefix + "last_hidden_state"]

# What AutoTokenizer has to go on: an export has no tokenizer_config.json unless something
# wrote one, so the class comes from config.json's model_type.
with open(os.path.join(export_dir, "tokenizer.json"), encoding="utf-8") as f:
    tokenizer_json_model = json.load(f)["model"]["type"]
has_tokenizer_config = os.path.isfile(os.path.join(export_dir, "tokenizer_config.json"))

# The tokenizer: AutoTokenizer on the export (tokenizer.json + config.json only), or, if it
# cannot, the fast tokenizer straight from tokenizer.json.
tokenizer_note = None
try:
    tok = AutoTokenizer.from_pretrained(export_dir)
    tokenizer_loaded = f"AutoTokenizer -> {type(tok).__name__}"
except Exception as e:  # noqa: BLE001 - reported in the output
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(export_dir, "tokenizer.json"))
    tokenizer_loaded = "PreTrainedTokenizerFast(tokenizer_file=tokenizer.json)"
    tokenizer_note = f"AutoTokenizer could not load the export: {type(e).__name__}: {e}"
if tok.pad_token is None:
    # Only when no pad token came with the export (a tokenizer.json-only load); the export's
    # config.json names its id.
    with open(os.path.join(export_dir, "config.json")) as f:
        pad_id = json.load(f).get("pad_token_id")
    if pad_id is not None:
        tok.pad_token = tok.convert_ids_to_tokens(pad_id)
        tokenizer_note = (tokenizer_note + "; " if tokenizer_note else "") + \
            f"no pad token in the export's tokenizer; set from config.json pad_token_id {pad_id}"
    elif tok.eos_token is not None:  # GPT-2's own checkpoint: padded as its reference was
        tok.pad_token = tok.eos_token
        tokenizer_note = (tokenizer_note + "; " if tokenizer_note else "") + \
            f"no pad token anywhere; padded with the end-of-text token {tok.eos_token}"

# The model, keeping what transformers reports about the weights it did not use or did not find.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model, info = AutoModel.from_pretrained(export_dir, attn_implementation="eager",
                                            dtype=torch.float32, output_loading_info=True)
model = model.to("cpu").eval()
with safe_open(os.path.join(export_dir, "model.safetensors"), framework="pt") as f:
    tensor_names = sorted(f.keys())


def difference(ids, mask):
    """The largest |last_hidden_state - reference| over the real (mask 1) positions."""
    with torch.no_grad():
        states = model(input_ids=ids, attention_mask=mask).last_hidden_state
    real = mask.bool()
    return (states[real] - ref_states[real]).abs().max().item()


def same(ids, mask):
    return ids.shape == ref_ids.shape and bool(torch.equal(ids, ref_ids)) \
        and bool(torch.equal(mask, ref_mask))


enc = tok(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
ids, mask = enc["input_ids"], enc["attention_mask"]
ids_equal = same(ids, mask)
diff = difference(ids, mask) if ids_equal else None

# When the tokenizer transformers picked gives other ids, tell a tokenizer problem from a
# weights problem: tokenize with the export's tokenizer.json as it is and compare again. This
# is a diagnosis only; the check still fails.
tokenizer_json_direct = None
if not ids_equal:
    direct = PreTrainedTokenizerFast(tokenizer_file=os.path.join(export_dir, "tokenizer.json"))
    if direct.pad_token is None:
        direct.pad_token = tok.pad_token
    e = direct(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    direct_equal = same(e["input_ids"], e["attention_mask"])
    tokenizer_json_direct = {
        "tokenizer": "PreTrainedTokenizerFast(tokenizer_file=tokenizer.json)",
        "ids_equal": direct_equal,
        "max_abs_diff": difference(e["input_ids"], e["attention_mask"]) if direct_equal else None,
        "first_tokens_auto": tok.convert_ids_to_tokens(ids[0][:12].tolist()),
        "first_tokens_reference": direct.convert_ids_to_tokens(ref_ids[0][:12].tolist()),
    }

result = {
    "export_dir": export_dir,
    "reference_dir": reference_dir,
    "transformers_loaded": type(model).__name__,
    "model_type": model.config.model_type,
    "tokenizer_loaded": tokenizer_loaded,
    "tokenizer_note": tokenizer_note,
    "tokenizer_json_model": tokenizer_json_model,
    "tokenizer_config_json": has_tokenizer_config,
    "ids_equal": ids_equal,
    "ids_shape": list(ids.shape),
    "reference_ids_shape": list(ref_ids.shape),
    "max_abs_diff": diff,
    "real_positions": int(mask.sum()) if ids_equal else None,
    "tokenizer_json_direct": tokenizer_json_direct,
    "texts": len(texts),
    "max_length": max_length,
    "tensors": len(tensor_names),
    "tensor_names": tensor_names,
    "parameters": sum(p.numel() for p in model.parameters()),
    "missing_keys": sorted(info["missing_keys"]),
    "unexpected_keys": sorted(info["unexpected_keys"]),
    "mismatched_keys": sorted(str(k) for k in info.get("mismatched_keys", [])),
    "tolerance": TOLERANCE,
    "produced_by": f"torch {torch.__version__}, transformers {transformers.__version__}",
}
print(json.dumps(result, indent=1))
sys.exit(0 if ids_equal and diff <= TOLERANCE else 1)
