"""Checks a directory written by `transfer export` against Hugging Face transformers.

usage: python3 scripts/check_hf_export.py EXPORT_DIR [TRANSFER_BINARY]

Loads the export with AutoTokenizer / AutoModel (eager attention, fp32, CPU), and compares
token ids and mean-pooled, L2-normalised sentence embeddings with `transfer embed` run on the
same directory. Prints one JSON object; exits 1 if anything differs by more than 1e-4.
"""
import json, subprocess, sys

import torch
from transformers import AutoModel, AutoTokenizer

export_dir = sys.argv[1]
binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/transfer"
texts = [
    "This movie isn't bad at all - I loved it!",
    "The plot was dull, the acting wooden, and I walked out after an hour.",
    "Café naïve résumé — déjà vu… 🎬🍿 señor ÜBER cool",
    "<br /><br />Bromwell High is a cartoon comedy.",
    " ".join(["an endlessly long review that keeps going"] * 80),
]
tok = AutoTokenizer.from_pretrained(export_dir)
model = AutoModel.from_pretrained(export_dir, attn_implementation="eager").eval()
enc = tok(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
with torch.no_grad():
    states = model(**enc).last_hidden_state
mask = enc["attention_mask"].unsqueeze(-1).float()
pooled = torch.nn.functional.normalize((states * mask).sum(1) / mask.sum(1), dim=-1)

out = subprocess.run([binary, "embed", "--model", export_dir, "--max-length", "256", *texts],
                     check=True, capture_output=True, text=True).stdout
ours = torch.tensor([json.loads(line)["embedding"] for line in out.splitlines()])
diff = (ours - pooled).abs().max().item()
result = {
    "export_dir": export_dir,
    "transformers_loaded": type(model).__name__,
    "texts": len(texts),
    "max_abs_diff_sentence_embedding": diff,
    "produced_by": f"torch {torch.__version__}, transformers {__import__('transformers').__version__}",
}
print(json.dumps(result, indent=1))
sys.exit(0 if diff < 1e-4 else 1)
