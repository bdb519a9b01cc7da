# Reference outputs of sentence-transformers/all-mpnet-base-v2 from HF transformers (PyTorch,
# fp32, eager attention, CPU) and sentence-transformers, in the format of
# $TRANSFER_ASSETS/golden/all-MiniLM-L6-v2/ (make_golden.py there), with the same 8 texts:
#   python scripts/golden/make_mpnet_golden.py MODEL_DIR OUT_DIR [MINILM_REFERENCE_JSON]
# MODEL_DIR is the Hugging Face layout that $TRANSFER_ASSETS/scripts/fetch_mpnet.sh assembles;
# the texts are read from the MiniLM golden's reference.json (default
# /work/shared/golden/all-MiniLM-L6-v2/reference.json, or $TRANSFER_ASSETS/golden/...).
#
# Differences from the MiniLM golden (all listed in reference.json under "notes"):
# - batch.sentence_embedding comes from sentence-transformers itself (modules.json:
#   Transformer -> mean Pooling -> Normalize) with max_seq_length set to 128, the batch's
#   max length; the script checks it against mean-pooled, normalised batch.last_hidden_state.
# - st_default.sentence_embedding: sentence-transformers out of the box (max_seq_length 384
#   from sentence_bert_config.json), checked against transformers at max length 384.
# - case{i}.sentence_embedding: sentence-transformers with max_seq_length 512 on each text
#   alone, checked against the mean of case{i}.last_hidden_state.
# - case6 (the > 512-token text) keeps its 512 input ids, but its [512, 768] hidden states
#   (1.5 MB) are replaced by case6.last_hidden_state_tail, the last 16 rows [16, 768]
#   (positions 496..511), to keep the file small; case6.sentence_embedding covers all 512.
import json, os, sys
import numpy as np
import torch
import transformers
import sentence_transformers
from transformers import AutoTokenizer, AutoModel
from sentence_transformers import SentenceTransformer
from safetensors.numpy import save_file

torch.set_num_threads(1)
model_dir, out = sys.argv[1], sys.argv[2]
minilm_json = sys.argv[3] if len(sys.argv) > 3 else os.path.join(
    os.environ.get("TRANSFER_ASSETS", "/work/shared"), "golden/all-MiniLM-L6-v2/reference.json")
texts = [c["text"] for c in json.load(open(minilm_json, encoding="utf-8"))["cases"]]
assert len(texts) == 8, len(texts)
MAX_BATCH, MAX_CASE, TAIL = 128, 512, 16

torch.manual_seed(0)
tok = AutoTokenizer.from_pretrained(model_dir)
model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
hidden = model.config.hidden_size


def mean_pool(h, mask):
    m = mask.unsqueeze(-1).to(h.dtype)
    return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)


def max_diff(a, b):
    return float(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)).max())


enc = tok(texts, padding=True, truncation=True, max_length=MAX_BATCH, return_tensors="pt")
with torch.no_grad():
    batch = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
tensors, meta = {}, {
    "model": "sentence-transformers/all-mpnet-base-v2", "max_length": MAX_BATCH,
    "produced_by": f"transformers {transformers.__version__}, torch {torch.__version__}, eager attention, fp32, CPU; "
                   f"sentence-transformers {sentence_transformers.__version__} for the *.sentence_embedding tensors",
    "hidden_size": hidden,
    "notes": [
        "batch.sentence_embedding: SentenceTransformer(MODEL_DIR, device='cpu') with max_seq_length = 128, "
        "encode(texts, normalize_embeddings=False) -- the model's own modules (mean Pooling, Normalize) normalise; "
        "equals L2-normalised batch.mean_pooled up to the differences in 'checks'.",
        "batch.mean_pooled: mean of batch.last_hidden_state over the attention mask (transformers, as in the MiniLM golden).",
        "st_default.sentence_embedding: the same SentenceTransformer at its configured max_seq_length "
        "(sentence_bert_config.json: 384), i.e. model.encode(texts) out of the box.",
        f"case{{i}}.sentence_embedding: SentenceTransformer with max_seq_length = {MAX_CASE}, each text alone; "
        "equals the normalised mean of case{i}.last_hidden_state.",
        f"case6.last_hidden_state is left out (it would be [512, {hidden}] f32, 1.5 MB); "
        f"case6.last_hidden_state_tail holds its last {TAIL} rows (positions {MAX_CASE - TAIL}..{MAX_CASE - 1}).",
    ],
    "cases": []}
tensors["batch.input_ids"] = enc["input_ids"].numpy().astype(np.int64)
tensors["batch.attention_mask"] = enc["attention_mask"].numpy().astype(np.int64)
tensors["batch.last_hidden_state"] = batch.numpy().astype(np.float32)
pooled = mean_pool(batch, enc["attention_mask"])
tensors["batch.mean_pooled"] = pooled.numpy().astype(np.float32)
hf_batch_emb = torch.nn.functional.normalize(pooled, dim=-1).numpy()

case_means = []
for i, t in enumerate(texts):
    e = tok(t, truncation=True, max_length=MAX_CASE, return_tensors="pt")
    assert e["attention_mask"].all(), "a text alone must not be padded"
    with torch.no_grad():
        h = model(input_ids=e["input_ids"], attention_mask=e["attention_mask"]).last_hidden_state[0]
    tensors[f"case{i}.input_ids"] = e["input_ids"][0].numpy().astype(np.int64)
    n = int(e["input_ids"].shape[1])
    if n == MAX_CASE:  # the long text
        tensors[f"case{i}.last_hidden_state_tail"] = h[-TAIL:].numpy().astype(np.float32)
    else:
        tensors[f"case{i}.last_hidden_state"] = h.numpy().astype(np.float32)
    case_means.append(torch.nn.functional.normalize(h.mean(0), dim=-1).numpy())
    meta["cases"].append({"index": i, "text": t, "tokens": tok.convert_ids_to_tokens(e["input_ids"][0]),
                          "num_tokens": n})

# transformers at sentence-transformers' own max_seq_length, for the out-of-the-box check
st = SentenceTransformer(model_dir, device="cpu")
st.eval()
st_default_len = st.max_seq_length
e384 = tok(texts, padding=True, truncation=True, max_length=st_default_len, return_tensors="pt")
with torch.no_grad():
    h384 = model(input_ids=e384["input_ids"], attention_mask=e384["attention_mask"]).last_hidden_state
hf_default_emb = torch.nn.functional.normalize(mean_pool(h384, e384["attention_mask"]), dim=-1).numpy()

with torch.no_grad():
    st_default = st.encode(texts, normalize_embeddings=False, convert_to_numpy=True)
    st.max_seq_length = MAX_BATCH
    st_batch = st.encode(texts, normalize_embeddings=False, convert_to_numpy=True)
    st.max_seq_length = MAX_CASE
    st_cases = st.encode(texts, batch_size=1, normalize_embeddings=False, convert_to_numpy=True)
tensors["batch.sentence_embedding"] = st_batch.astype(np.float32)
tensors["st_default.sentence_embedding"] = st_default.astype(np.float32)
for i in range(len(texts)):
    tensors[f"case{i}.sentence_embedding"] = st_cases[i].astype(np.float32)

checks = {
    f"batch.sentence_embedding (sentence-transformers, max {MAX_BATCH}) vs normalised batch.mean_pooled (transformers)":
        max_diff(st_batch, hf_batch_emb),
    f"st_default.sentence_embedding (sentence-transformers, max {st_default_len}) vs transformers mean-pooled, normalised at max {st_default_len}":
        max_diff(st_default, hf_default_emb),
    f"case*.sentence_embedding (sentence-transformers, max {MAX_CASE}, alone) vs normalised mean of case hidden states":
        max_diff(st_cases, np.stack(case_means)),
    "batch.sentence_embedding: max |L2 norm - 1|": float(np.abs(np.linalg.norm(st_batch, axis=-1) - 1).max()),
    "batch vs alone: max |hidden state difference| on unpadded tokens (cases without truncation)": max(
        max_diff(tensors[f"case{i}.last_hidden_state"], tensors["batch.last_hidden_state"][i, :c["num_tokens"]])
        for i, c in enumerate(meta["cases"]) if c["num_tokens"] <= MAX_BATCH),
}
meta["st_default_max_seq_length"] = st_default_len
meta["checks"] = checks
for k, v in checks.items():
    print(f"{v:.3e}  {k}")
assert all(v < (1e-4 if "hidden state" in k else 1e-5) for k, v in checks.items()), checks

os.makedirs(out, exist_ok=True)
save_file(tensors, f"{out}/reference.safetensors")
with open(f"{out}/reference.json", "w", encoding="utf-8") as f:
    json.dump(meta, f, indent=1, ensure_ascii=False)
print({k: v.shape for k, v in tensors.items() if not k.startswith("case")})
print(f"{out}/reference.safetensors: {os.path.getsize(f'{out}/reference.safetensors')} bytes")
