"""Builds tiny, randomly initialised checkpoints of several Hugging Face model families, plus the
outputs transformers computes with them, for the Rust loader's golden tests.

usage: ~/.venvs/torch/bin/python scripts/golden/make_family_checkpoints.py [FAMILY ...]

Everything is offline: each tokenizer is trained with the `tokenizers` library on the first
2,000 reviews of aclImdb/train/unsup/ in /work/shared/data/aclImdb_v1.tar.gz (about 1,000
entries, following the family's real tokenizer.json layout), and each model is built from a
tiny config (hidden 32, 4 heads, intermediate 64, 128 positions, no dropout, eager attention)
with a fixed seed. Parameters that the initialisation leaves at exactly 0 or 1 (biases,
LayerNorm) are perturbed, so a loader that silently skips one of them is caught, and every query
and key weight (and MPNet's relative position bias, ELECTRA's embedding projection) is scaled by
16, so attention is far from uniform (mean largest probability about 0.5 instead of 0.03) and an
error in what acts inside the scores (relative positions, rotary, disentangled attention, masks)
shows in the outputs.

Writes tests/data/families/<family>/:
  config.json, model.safetensors (fp32)      the base model (AutoModel, no head)
  tokenizer.json, tokenizer_config.json      PreTrainedTokenizerFast.save_pretrained
  reference.safetensors                      input_ids, attention_mask (int64 [B,S]),
                                             last_hidden_state (f32 [B,S,H]) for 4 texts,
                                             right-padded, max_length 64
  reference.json                             texts, versions, seed, tensor names and shapes
  train_step.safetensors                     head_weight [H,2], labels [B], loss [1] and
   (roberta, mpnet, deberta-v2, modernbert)  grad.<parameter name> for every parameter
and tests/data/families/README.md. Then reloads every directory with AutoTokenizer /
AutoModel and prints a table of the differences.
"""
import inspect
import json
import os
import re
import sys
import tarfile
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # the tokenizers trainers: light on CPU
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import safetensors.torch
import tokenizers
import torch
import transformers
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
from tokenizers import processors, trainers
from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerFast

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "families"
TARBALL = Path("/work/shared/data/aclImdb_v1.tar.gz")
CORPUS_PREFIX = "aclImdb/train/unsup/"
CORPUS_SIZE = 2000
VOCAB_SIZE = 1000
MAX_LENGTH = 64
SEED = 20240611
COMMAND = "~/.venvs/torch/bin/python scripts/golden/make_family_checkpoints.py"

# Shared tiny sizes (every family maps them onto its own config names).
HIDDEN, LAYERS, HEADS, INTERMEDIATE, POSITIONS = 32, 2, 4, 64, 128

# Four real IMDB review snippets, cut from the starts of aclImdb/test/neg/0_2.txt,
# test/pos/0_10.txt, test/pos/10000_7.txt and test/neg/10000_4.txt (so not in the tokenizer's
# corpus). Their lengths differ, the last gives 40+ tokens with every tokenizer (more than
# ModernBERT's local window of 8) and none reaches 64.
TEXTS = [
    "Once again Mr. Costner has dragged out a movie",
    "I went and saw this movie last night after being coaxed to by a few friends of mine.",
    'Actor turned director Bill Paxton follows up his promising debut, the Gothic-horror "Frailty"',
    "This is an example of why the majority of action films are the same. Generic and boring, "
    "there's really nothing worth watching here. A complete waste",
]


# ----------------------------------------------------------------------------------------------
# Shared helpers


def read_corpus():
    """The first CORPUS_SIZE reviews under aclImdb/train/unsup/ in tarball order, <br /> removed."""
    reviews = []
    with tarfile.open(TARBALL, "r|gz") as tar:
        for member in tar:
            if member.isfile() and member.name.startswith(CORPUS_PREFIX):
                text = tar.extractfile(member).read().decode("utf-8")
                reviews.append(re.sub(r"<br\s*/?>", " ", text))
                if len(reviews) >= CORPUS_SIZE:
                    break
    return reviews


def append_to_vocab(tok, token, special=True, **flags):
    """Adds `token` as the last entry of the model vocabulary (as the real mpnet, roberta,
    xlm-roberta, gpt2, ModernBERT, deberta-v3 vocabularies do with <mask>, <|endoftext|>, ...),
    and registers it as an added (special) token with that same id."""
    spec = json.loads(tok.to_str())
    model = spec["model"]
    if model["type"] == "Unigram":
        new_id = len(model["vocab"])
        model["vocab"].append([token, 0.0])
    else:  # WordPiece, BPE: {token: id}
        new_id = max(model["vocab"].values()) + 1
        model["vocab"][token] = new_id
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.add_special_tokens([AddedToken(token, special=special, normalized=False, **flags)])
    assert tok.token_to_id(token) == new_id, (token, tok.token_to_id(token), new_id)
    return tok


def canonical_order(tok, n_specials):
    """Makes a trained WordPiece / Unigram vocabulary independent of the trainer's hash order.

    Both trainers give the same set of pieces in every run, but the WordPiece trainer numbers
    the `##x` characters (and merges of equal count) in Rust HashMap order, and the Unigram
    trainer's scores differ in the 11th digit and the characters it adds at the lowest scores
    come in hash order. The special tokens keep their ids; WordPiece pieces follow sorted (word
    starts, then ## continuations; the ids do not affect WordPiece tokenization), Unigram scores
    are rounded to 5 decimals and sorted by score, high first, as in a sentencepiece
    vocabulary."""
    spec = json.loads(tok.to_str())
    model = spec["model"]
    if model["type"] == "Unigram":
        fixed, rest = model["vocab"][:n_specials], model["vocab"][n_specials:]
        rest = [[piece, round(score, 5)] for piece, score in rest]
        # Characters the trainer must keep get min_score + k * 1e-4, k in hash order: give the
        # same scores to those characters in sorted order.
        low = min(score for _, score in rest) + 0.01
        tail = sorted((e for e in rest if len(e[0]) == 1 and e[1] < low), key=lambda e: e[0])
        for entry, score in zip(tail, sorted(e[1] for e in tail)):
            entry[1] = score
        model["vocab"] = fixed + sorted(rest, key=lambda e: (-e[1], e[0]))
    else:
        by_id = sorted(model["vocab"], key=model["vocab"].get)
        fixed, rest = by_id[:n_specials], sorted(by_id[n_specials:],
                                                 key=lambda t: (t.startswith("##"), t))
        model["vocab"] = {t: i for i, t in enumerate(fixed + rest)}
    return Tokenizer.from_str(json.dumps(spec))


def template(cls, sep, tok):
    """`cls $A sep` for single sequences, `cls $A sep $B:1 sep:1` for pairs."""
    return processors.TemplateProcessing(
        single=f"{cls}:0 $A:0 {sep}:0",
        pair=f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
        special_tokens=[(cls, tok.token_to_id(cls)), (sep, tok.token_to_id(sep))],
    )


def roberta_template(cls, sep, tok):
    """`<s> $A </s>`, pairs `<s> $A </s> </s> $B </s>` (roberta, xlm-roberta, mpnet)."""
    return processors.TemplateProcessing(
        single=f"{cls}:0 $A:0 {sep}:0",
        pair=f"{cls}:0 $A:0 {sep}:0 {sep}:0 $B:0 {sep}:0",
        special_tokens=[(cls, tok.token_to_id(cls)), (sep, tok.token_to_id(sep))],
    )


def wordpiece(corpus, specials, unk):
    tok = Tokenizer(models.WordPiece(unk_token=unk, max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=specials, show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    return canonical_order(tok, len(specials))


def byte_level_bpe(corpus, specials):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=specials, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    return tok


def unigram(corpus, specials, unk, normalizer):
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=specials, unk_token=unk, show_progress=False)
    tok.train_from_iterator(corpus, trainer)
    return canonical_order(tok, len(specials))


def perturb_constant_parameters(model, generator):
    """Adds 0.02 * N(0, 1) to every parameter the initialisation set to all zeros or all ones."""
    changed = []
    with torch.no_grad():
        for name, p in model.named_parameters():
            if bool((p == 0).all()) or bool((p == 1).all()):
                p.add_(0.02 * torch.randn(p.shape, generator=generator))
                changed.append(name)
    return changed


# Query and key weights of every attention layer, and how each family lays them out: at the
# initialisation's scale (std 0.02) attention is uniform, which hides errors in whatever acts
# inside the scores (relative positions, rotary, disentangled, causal or local masks).
QUERY_KEY = {
    "modernbert": (r"attn\.Wqkv\.weight$", "rows"),  # [3H, H]: query and key rows first
    "gpt2": (r"attn\.c_attn\.weight$", "columns"),  # Conv1D [H, 3H]
    "deberta-v2": (r"attention\.self\.(query_proj|key_proj)\.weight$", None),
    # and MPNet's relative position bias, added to the scores
    "mpnet": (r"attention\.attn\.(q|k)\.weight$|^encoder\.relative_attention_bias\.weight$", None),
    "distilbert": (r"attention\.(q_lin|k_lin)\.weight$", None),
    # and ELECTRA's embedding projection, at that scale too, which its first layer reads
    "electra": (r"attention\.self\.(query|key)\.weight$|^embeddings_project\.weight$", None),
}
BERT_QUERY_KEY = (r"attention\.self\.(query|key)\.weight$", None)
SHARPEN = 16.0  # mean largest attention probability about 0.5 (uniform: 0.03)


def sharpen_attention(name, model):
    """Multiplies every query and key weight by SHARPEN; returns the names scaled."""
    pattern, layout = QUERY_KEY.get(name, BERT_QUERY_KEY)
    scaled = []
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if not re.search(pattern, pname):
                continue
            if layout == "rows":
                p[: 2 * (p.shape[0] // 3)].mul_(SHARPEN)
            elif layout == "columns":
                p[:, : 2 * (p.shape[1] // 3)].mul_(SHARPEN)
            else:
                p.mul_(SHARPEN)
            scaled.append(pname)
    assert scaled, name
    return scaled


def attention_peaks(model, ids, mask):
    """Per layer, the mean over real query positions of the largest attention probability."""
    with torch.no_grad():
        attentions = model(input_ids=ids, attention_mask=mask, output_attentions=True).attentions
    real = mask.bool()
    return [round(a.max(-1).values.permute(0, 2, 1)[real].mean().item(), 3) for a in attentions]


def run_batch(tok, model, texts, pad_as_eos=False):
    if pad_as_eos:  # gpt2 has no pad token: pad with <|endoftext|> for this batch only
        tok.pad_token = tok.eos_token
    tok.padding_side = "right"
    enc = tok(texts, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    ids, mask = enc["input_ids"].long(), enc["attention_mask"].long()
    out = model(input_ids=ids, attention_mask=mask).last_hidden_state
    return ids, mask, out


def train_step_loss(hidden, mask, head_weight, labels):
    """cross_entropy(mean_pool(hidden over mask) @ head_weight, labels), mean over the batch."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * m).sum(1) / m.sum(1)
    return torch.nn.functional.cross_entropy(pooled @ head_weight, labels)


def save_model(model, directory):
    kwargs = {}
    if "safe_serialization" in inspect.signature(model.save_pretrained).parameters:
        kwargs["safe_serialization"] = True  # transformers 4.x; 5.x always writes safetensors
    model.save_pretrained(directory, **kwargs)


# ----------------------------------------------------------------------------------------------
# Families: each returns (tokenizer object, PreTrainedTokenizerFast kwargs, config class kwargs)

BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
BERT_TOKENS = dict(pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
                   mask_token="[MASK]")
BERT_SIZES = dict(hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                  intermediate_size=INTERMEDIATE, max_position_embeddings=POSITIONS,
                  hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
ROBERTA_TOKENS = dict(bos_token="<s>", eos_token="</s>", cls_token="<s>", sep_token="</s>",
                      pad_token="<pad>", unk_token="<unk>", mask_token="<mask>")


def bert_tokenizer(corpus):
    tok = wordpiece(corpus, BERT_SPECIALS, "[UNK]")
    tok.post_processor = template("[CLS]", "[SEP]", tok)
    return tok


def family_bert(corpus):
    tok = bert_tokenizer(corpus)
    return tok, dict(BERT_TOKENS), dict(
        BERT_SIZES, type_vocab_size=2, pad_token_id=tok.token_to_id("[PAD]"))


def family_distilbert(corpus):
    tok = bert_tokenizer(corpus)
    return tok, dict(BERT_TOKENS, model_input_names=["input_ids", "attention_mask"]), dict(
        dim=HIDDEN, n_layers=LAYERS, n_heads=HEADS, hidden_dim=INTERMEDIATE,
        max_position_embeddings=POSITIONS, sinusoidal_pos_embds=False, dropout=0.0,
        attention_dropout=0.0, seq_classif_dropout=0.0, qa_dropout=0.0,
        pad_token_id=tok.token_to_id("[PAD]"))


def family_electra(corpus):
    tok = bert_tokenizer(corpus)
    return tok, dict(BERT_TOKENS), dict(
        BERT_SIZES, embedding_size=16, type_vocab_size=2, pad_token_id=tok.token_to_id("[PAD]"))


def family_mpnet(corpus):
    # microsoft/mpnet-base: a BERT-style WordPiece (lowercase) with <s>=0 <pad>=1 </s>=2 <unk>=3
    # first and <mask> last.
    tok = wordpiece(corpus, ["<s>", "<pad>", "</s>", "<unk>"], "<unk>")
    tok = append_to_vocab(tok, "<mask>", lstrip=True)
    tok.post_processor = roberta_template("<s>", "</s>", tok)
    return tok, dict(ROBERTA_TOKENS, model_input_names=["input_ids", "attention_mask"],
                     model_max_length=POSITIONS - 2), dict(
        BERT_SIZES, relative_attention_num_buckets=32, pad_token_id=1, bos_token_id=0,
        eos_token_id=2)


def family_roberta(corpus):
    tok = byte_level_bpe(corpus, ["<s>", "<pad>", "</s>", "<unk>"])
    tok = append_to_vocab(tok, "<mask>", lstrip=True)
    tok.post_processor = processors.RobertaProcessing(
        ("</s>", 2), ("<s>", 0), trim_offsets=True, add_prefix_space=False)
    return tok, dict(ROBERTA_TOKENS, model_input_names=["input_ids", "attention_mask"],
                     model_max_length=POSITIONS - 2), dict(
        BERT_SIZES, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2)


def family_xlm_roberta(corpus):
    # The real normalizer is a sentencepiece Precompiled charsmap followed by this Replace;
    # NFKC stands in for the charsmap.
    normalizer = normalizers.Sequence([normalizers.NFKC(),
                                       normalizers.Replace(Regex(" {2,}"), " ")])
    tok = unigram(corpus, ["<s>", "<pad>", "</s>", "<unk>"], "<unk>", normalizer)
    tok = append_to_vocab(tok, "<mask>", lstrip=True)
    tok.post_processor = roberta_template("<s>", "</s>", tok)
    return tok, dict(ROBERTA_TOKENS, model_input_names=["input_ids", "attention_mask"],
                     model_max_length=POSITIONS - 2), dict(
        BERT_SIZES, type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2)


def family_deberta_v2(corpus):
    # microsoft/deberta-v3-base: sentencepiece Unigram, [PAD]=0 [CLS]=1 [SEP]=2 [UNK]=3,
    # [MASK] last.
    normalizer = normalizers.Sequence([normalizers.Strip(), normalizers.NFKC(),
                                       normalizers.Replace(Regex(" {2,}"), " ")])
    tok = unigram(corpus, ["[PAD]", "[CLS]", "[SEP]", "[UNK]"], "[UNK]", normalizer)
    tok = append_to_vocab(tok, "[MASK]")
    tok.post_processor = template("[CLS]", "[SEP]", tok)
    return tok, dict(BERT_TOKENS, bos_token="[CLS]", eos_token="[SEP]",
                     model_max_length=POSITIONS), dict(
        BERT_SIZES, type_vocab_size=0, relative_attention=True, max_relative_positions=-1,
        position_buckets=32, pos_att_type=["p2c", "c2p"], position_biased_input=False,
        norm_rel_ebd="layer_norm", share_att_key=True, layer_norm_eps=1e-7, hidden_act="gelu",
        pad_token_id=0, bos_token_id=1, eos_token_id=2)


def family_gpt2(corpus):
    # gpt2: byte-level BPE, <|endoftext|> last and the only special token; nothing is added
    # around a sequence.
    tok = byte_level_bpe(corpus, [])
    tok = append_to_vocab(tok, "<|endoftext|>")
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    eot = "<|endoftext|>"
    return tok, dict(bos_token=eot, eos_token=eot, unk_token=eot,
                     model_input_names=["input_ids", "attention_mask"],
                     model_max_length=POSITIONS), dict(
        n_embd=HIDDEN, n_layer=LAYERS, n_head=HEADS, n_inner=INTERMEDIATE,
        n_positions=POSITIONS, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        summary_first_dropout=0.0, bos_token_id=tok.token_to_id(eot),
        eos_token_id=tok.token_to_id(eot))


def family_modernbert(corpus):
    # answerdotai/ModernBERT-base: byte-level BPE (NFC) with [UNK] [CLS] [SEP] [PAD] [MASK] last,
    # template [CLS] $A [SEP].
    tok = byte_level_bpe(corpus, [])
    tok.normalizer = normalizers.NFC()
    for t in ["[UNK]", "[CLS]", "[SEP]", "[PAD]"]:
        tok = append_to_vocab(tok, t)
    tok = append_to_vocab(tok, "[MASK]", lstrip=True)
    tok.post_processor = template("[CLS]", "[SEP]", tok)
    ids = {t: tok.token_to_id(t) for t in ["[CLS]", "[SEP]", "[PAD]"]}
    # 3 layers, global attention on layers 0 and 2, layer 1 local with a window of 8
    # (|i - j| <= 4), so the 40+ token text exercises the window.
    return tok, dict(BERT_TOKENS, model_input_names=["input_ids", "attention_mask"],
                     model_max_length=POSITIONS), dict(
        hidden_size=HIDDEN, num_hidden_layers=3, num_attention_heads=HEADS,
        intermediate_size=INTERMEDIATE, max_position_embeddings=POSITIONS,
        global_attn_every_n_layers=2, local_attention=8, attention_dropout=0.0,
        embedding_dropout=0.0, mlp_dropout=0.0, classifier_dropout=0.0,
        pad_token_id=ids["[PAD]"], cls_token_id=ids["[CLS]"], sep_token_id=ids["[SEP]"],
        bos_token_id=ids["[CLS]"], eos_token_id=ids["[SEP]"])


FAMILIES = {
    "bert": ("bert", family_bert),
    "roberta": ("roberta", family_roberta),
    "xlm-roberta": ("xlm-roberta", family_xlm_roberta),
    "distilbert": ("distilbert", family_distilbert),
    "electra": ("electra", family_electra),
    "mpnet": ("mpnet", family_mpnet),
    "modernbert": ("modernbert", family_modernbert),
    "gpt2": ("gpt2", family_gpt2),
    "deberta-v2": ("deberta-v2", family_deberta_v2),
}
TRAIN_STEP = {"roberta", "mpnet", "deberta-v2", "modernbert"}


# ----------------------------------------------------------------------------------------------
# Build, record, verify


def build(name, corpus):
    model_type, make = FAMILIES[name]
    directory = OUT / name
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        old.unlink()

    tok_obj, tok_kwargs, config_kwargs = make(corpus)
    vocab = tok_obj.get_vocab_size(with_added_tokens=True)
    tok = PreTrainedTokenizerFast(tokenizer_object=tok_obj, padding_side="right",
                                  **{"model_max_length": POSITIONS, **tok_kwargs})
    tok.save_pretrained(directory)
    # transformers 5 writes tokenizer_class "TokenizersBackend", which 4.x cannot load; the
    # class it is an alias of loads the same tokenizer.json in both.
    tok_config_path = directory / "tokenizer_config.json"
    tok_config = json.loads(tok_config_path.read_text())
    tok_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    tok_config_path.write_text(json.dumps(tok_config, indent=2, sort_keys=True) + "\n")

    config = transformers.AutoConfig.for_model(model_type, vocab_size=vocab, **config_kwargs)
    torch.manual_seed(SEED)
    model = AutoModel.from_config(config, attn_implementation="eager", dtype=torch.float32)
    perturbed = perturb_constant_parameters(model, torch.Generator().manual_seed(SEED + 1))
    sharpened = sharpen_attention(name, model)
    model.eval()
    save_model(model, directory)

    ids, mask, hidden = run_batch(tok, model, TEXTS, pad_as_eos=(name == "gpt2"))
    hidden = hidden.detach()
    safetensors.torch.save_file(
        {"input_ids": ids.contiguous(), "attention_mask": mask.contiguous(),
         "last_hidden_state": hidden.contiguous()},
        str(directory / "reference.safetensors"))

    weights = safetensors.torch.load_file(str(directory / "model.safetensors"))
    param_names = [n for n, _ in model.named_parameters()]
    record = {
        "family": name,
        "model_type": model_type,
        "model_class": type(model).__name__,
        "texts": TEXTS,
        "max_length": MAX_LENGTH,
        "padding_side": "right",
        "pad_token_for_batch": "<|endoftext|>" if name == "gpt2" else tok.pad_token,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "tokenizers": tokenizers.__version__,
        "seed": SEED,
        "vocab_size": vocab,
        "sequence_lengths": mask.sum(1).tolist(),
        "perturbed_parameters": perturbed,
        "query_key_scaled_by": SHARPEN,
        "query_key_parameters": sharpened,
        "attention_peaks": attention_peaks(model, ids, mask),
        "weights_names_equal_named_parameters": sorted(weights) == sorted(param_names),
        "weights": {k: list(weights[k].shape) for k in sorted(weights)},
    }

    if name in TRAIN_STEP:
        record["train_step"] = train_step(model, ids, mask, directory)

    (directory / "reference.json").write_text(json.dumps(record, indent=1) + "\n")
    return record


def train_step(model, ids, mask, directory):
    hidden_size = model.config.hidden_size
    head_weight = torch.randn(hidden_size, 2, generator=torch.Generator().manual_seed(SEED + 2))
    labels = torch.tensor([0, 1, 0, 1], dtype=torch.long)
    model.zero_grad(set_to_none=True)
    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    loss = train_step_loss(hidden, mask, head_weight, labels)
    loss.backward()
    tensors = {"head_weight": head_weight, "labels": labels, "loss": loss.detach().reshape(1)}
    no_grad = []
    for pname, p in model.named_parameters():
        if p.grad is None:  # not on the path to last_hidden_state (the pooler)
            no_grad.append(pname)
            tensors[f"grad.{pname}"] = torch.zeros_like(p)
        else:
            tensors[f"grad.{pname}"] = p.grad.detach().clone()
    model.zero_grad(set_to_none=True)
    safetensors.torch.save_file({k: v.contiguous() for k, v in tensors.items()},
                                str(directory / "train_step.safetensors"))
    return {
        "loss": loss.item(),
        "labels": labels.tolist(),
        "head_weight_seed": SEED + 2,
        "formula": "cross_entropy(mean_pool(last_hidden_state, attention_mask) @ head_weight, "
                   "labels), mean over the batch; eval mode (all dropout is 0 anyway)",
        "grad_naming": "grad. + name from the base model's named_parameters() (same names as "
                       "the keys of model.safetensors, no 'roberta.'/'mpnet.' prefix)",
        "grads_without_gradient_stored_as_zeros": no_grad,
    }


def verify(name, record):
    """Reloads the directory with AutoTokenizer / AutoModel and compares with the reference."""
    directory = OUT / name
    ref = safetensors.torch.load_file(str(directory / "reference.safetensors"))
    tok = AutoTokenizer.from_pretrained(directory)
    model = AutoModel.from_pretrained(directory, attn_implementation="eager").eval()
    assert next(model.parameters()).dtype == torch.float32
    with torch.no_grad():
        ids, mask, hidden = run_batch(tok, model, TEXTS, pad_as_eos=(name == "gpt2"))
    assert torch.equal(ids, ref["input_ids"]) and torch.equal(mask, ref["attention_mask"]), name
    # The raw tokenizer.json (what a Rust loader reads) gives the same ids without padding.
    raw = Tokenizer.from_file(str(directory / "tokenizer.json"))
    for i, text in enumerate(TEXTS):
        n = int(mask[i].sum())
        assert raw.encode(text).ids == ids[i, :n].tolist(), (name, i)
        assert n < MAX_LENGTH, (name, i, n)
    diff = (hidden - ref["last_hidden_state"]).abs().max().item()
    real = mask.bool()
    diff_real = (hidden - ref["last_hidden_state"])[real].abs().max().item()
    loss_diff = None
    if name in TRAIN_STEP:
        ts = safetensors.torch.load_file(str(directory / "train_step.safetensors"))
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
        loss = train_step_loss(hidden, mask, ts["head_weight"], ts["labels"])
        loss.backward()
        loss_diff = abs(loss.item() - ts["loss"].item())
        for pname, p in model.named_parameters():
            g = p.grad if p.grad is not None else torch.zeros_like(p)
            loss_diff = max(loss_diff, (g - ts[f"grad.{pname}"]).abs().max().item())
    if name == "modernbert":  # the local window must matter: compare with an unbounded one
        wide = AutoModel.from_pretrained(directory, attn_implementation="eager",
                                         local_attention=4 * MAX_LENGTH).eval()
        with torch.no_grad():
            wide_hidden = wide(input_ids=ids, attention_mask=mask).last_hidden_state
        window_effect = (wide_hidden - ref["last_hidden_state"])[real].abs().max().item()
        print(f"modernbert: local window 8 vs {4 * MAX_LENGTH}: max diff {window_effect:.3f}")
        assert window_effect > 1e-3
    peaks = attention_peaks(model, ids, mask)
    print(f"{name}: mean largest attention probability per layer {peaks}")
    assert peaks[-1] > 0.3, (name, peaks)  # far from uniform, so the scores' terms show
    sizes = {f.name: f.stat().st_size for f in sorted(directory.iterdir())}
    params = sum(p.numel() for p in model.parameters())
    return dict(family=name, model_type=record["model_type"], params=params,
                vocab=record["vocab_size"], lengths=record["sequence_lengths"], diff=diff,
                diff_real=diff_real, train_diff=loss_diff, sizes=sizes)


def write_readme(records):
    lines = [
        "# Tiny Hugging Face checkpoints, one per model family",
        "",
        "Made offline, with no download, by",
        "",
        f"    {COMMAND}",
        "",
        f"(transformers {transformers.__version__}, torch {torch.__version__}, tokenizers "
        f"{tokenizers.__version__}, seed {SEED}). Each directory holds a randomly initialised base "
        "model (`AutoModel`, no head) with hidden size 32, 4 heads, intermediate 64, 128 "
        "positions, all dropout 0 (eager attention), whose all-0 / all-1 initial tensors (biases, "
        "LayerNorm) were perturbed and whose query and key weights (and MPNet's relative position "
        "bias, ELECTRA's embedding projection) were scaled by 16 (so attention is far from "
        "uniform: an error in relative positions, rotary, disentangled attention or a mask shows; "
        "`attention_peaks` in reference.json), and a tokenizer trained with `tokenizers` on the "
        "first 2,000 reviews of aclImdb/train/unsup/ (about 1,000 entries) in the family's real "
        "tokenizer.json layout.",
        "",
        "Files in `<family>/`:",
        "",
        "- `config.json`, `model.safetensors` (fp32): `AutoModel.from_pretrained` loads them.",
        "- `tokenizer.json`, `tokenizer_config.json`: `AutoTokenizer.from_pretrained` loads them.",
        "- `reference.safetensors`: `input_ids`, `attention_mask` (int64 [4, S]) and "
        "`last_hidden_state` (f32 [4, S, H]) for the 4 texts in `reference.json`, tokenized with "
        "`padding=True, truncation=True, max_length=64` (right padding; gpt2 pads with "
        "`<|endoftext|>`). Padded positions hold whatever transformers computed there; compare "
        "the real (mask 1) positions.",
        "- `reference.json`: texts, versions, seed, sequence lengths, the perturbed parameters, "
        "the scaled query and key parameters, each layer's mean largest attention probability, "
        "and under `weights` every tensor name of `model.safetensors` with its shape.",
        "- `train_step.safetensors` (roberta, mpnet, deberta-v2, modernbert only): `head_weight` [H, 2], `labels` [4], "
        "`loss` [1] = cross_entropy(mean_pool(last_hidden_state over attention_mask) @ "
        "head_weight, labels), and `grad.<name>` for every parameter, named as in the base "
        "model's `named_parameters()` (the same names as the keys of `model.safetensors`); the "
        "pooler gets no gradient and is stored as zeros (listed in reference.json).",
        "- `gpt2/lm_reference.safetensors`, `gpt2/lm_reference.json`: what transformers'",
        "  `GPT2LMHeadModel` (head tied to `wte`) computes on the same batch — the scores at each "
        "text's",
        "  last token, every next token's log-probability, the loss with `labels = input_ids` "
        "(padding",
        "  ignored), every parameter's gradient of it, and 12 greedily generated tokens after",
        "  \"This movie was\" — written by `~/.venvs/torch/bin/python "
        "scripts/golden/make_gpt2_lm_reference.py`.",
        "",
        "| family | model_type | class | layers | vocab | tokens per text |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        layers = sorted({int(m.group(1)) for k in r["weights"]
                         if (m := re.search(r"\.(\d+)\.", k))})
        lines.append(f"| {r['family']} | {r['model_type']} | {r['model_class']} | "
                     f"{len(layers)} | {r['vocab_size']} | {r['sequence_lengths']} |")
    (OUT / "README.md").write_text("\n".join(lines) + "\n")


def main():
    torch.set_num_threads(2)
    names = sys.argv[1:] or list(FAMILIES)
    corpus = read_corpus()
    print(f"corpus: {len(corpus)} reviews from {TARBALL.name}")
    records, rows = [], []
    for name in names:
        record = build(name, corpus)
        records.append(record)
        rows.append(verify(name, record))
    if not sys.argv[1:]:
        write_readme(records)

    print(f"\n{'family':12} {'model_type':11} {'params':>7} {'vocab':>5} {'tokens':>16} "
          f"{'max diff':>9} {'train diff':>10} {'model':>7} {'tok.json':>8} {'ref':>6} "
          f"{'train':>7} {'dir':>7}")
    total = 0
    for r in rows:
        s = r["sizes"]
        size = sum(s.values())
        total += size
        train = r["train_diff"]
        print(f"{r['family']:12} {r['model_type']:11} {r['params']:7d} {r['vocab']:5d} "
              f"{str(r['lengths']):>16} {r['diff']:9.2e} "
              f"{'-' if train is None else f'{train:.2e}':>10} "
              f"{s['model.safetensors']:7d} {s['tokenizer.json']:8d} "
              f"{s['reference.safetensors']:6d} {s.get('train_step.safetensors', 0):7d} "
              f"{size:7d}")
    total += (OUT / "README.md").stat().st_size if (OUT / "README.md").exists() else 0
    print(f"total: {total} bytes")
    worst = max(r["diff"] for r in rows)
    sys.exit(0 if worst < 1e-5 else 1)


if __name__ == "__main__":
    main()
