"""Small Hugging Face language-model checkpoints, trained and saved by `transformers`, for PruneSharp's tests and
benchmarks, with the reference numbers PruneSharp is checked against.

Needs torch and transformers (a GPU makes the training take seconds); nothing is downloaded. Run:
    python3 bench/llm/make_checkpoints.py KJV_TEXT OUT_DIR [--train-seconds S]

It writes into OUT_DIR:
- kjv-train.txt, kjv-heldout.txt: the first 90% of the text's lines and the rest (calibration and evaluation);
- tokenizers/{bytelevel,metaspace}: two tokenizers trained on kjv-train.txt by the `tokenizers` library (byte-level
  BPE as GPT-2/Llama 3/Qwen2 use; Metaspace BPE as Llama 2/Mistral use), each with expected_ids.json (texts and the ids
  the real tokenizer gives them, without special tokens);
- fixtures/<name>: tiny checkpoints of every family (GPT-2, Llama with grouped-query attention, Mistral, Qwen2, OPT) in
  several dtypes and layouts (single file, sharded), each with reference.json: input ids and the logits `transformers`
  computes for them (eager attention, float32);
- bench/<name>: two larger checkpoints (GPT-2 and Llama with GQA, bf16 sharded) trained on kjv-train.txt;
- reference.json: perplexity of each bench checkpoint, dense and pruned by our PyTorch formulation of magnitude,
  Wanda and SparseGPT (pruning_reference.py) at 50%, 2:4 and 4:8, with the calibration and evaluation settings.
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pruning_reference as ref  # noqa: E402

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
TEXTS = [
    "In the beginning God created the heaven and the earth.",
    "And God said, Let there be light: and there was light.",
    "  Twice  spaced,\ttabbed\nand new-lined; numbers 1234567 and 3.14159!",
    "Ça va? naïve café — 你好, мир ✓",
]


def log(*args):
    print(f"[{time.strftime('%H:%M:%S')}]", *args, flush=True)


def split_text(path, out):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    cut = len(lines) * 9 // 10
    train, heldout = "\n".join(lines[:cut]) + "\n", "\n".join(lines[cut:]) + "\n"
    for name, text in (("kjv-train.txt", train), ("kjv-heldout.txt", heldout)):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(text)
    return train, heldout


def train_tokenizer(kind, train_text, vocab_size, out):
    if kind == "bytelevel":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        specials = ["<|endoftext|>"]
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        tok.train_from_iterator(train_text.splitlines(), trainer)
        special = dict(bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    else:
        tok = Tokenizer(models.BPE(unk_token="<unk>"))
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first")
        tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="first")
        specials = ["<unk>", "<s>", "</s>"]
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials)
        tok.train_from_iterator(train_text.splitlines(), trainer)
        special = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>")
    folder = os.path.join(out, "tokenizers", kind)
    os.makedirs(folder, exist_ok=True)
    try:  # tokenizer.json plus tokenizer_config.json as transformers writes them
        from transformers import PreTrainedTokenizerFast

        PreTrainedTokenizerFast(tokenizer_object=tok, **special).save_pretrained(folder)
    except Exception as e:  # noqa: BLE001 - the tokenizer file alone is enough for PruneSharp
        log("  transformers could not wrap the tokenizer:", repr(e))
        tok.save(os.path.join(folder, "tokenizer.json"))
    expected = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in TEXTS]
    expected.append({"text": train_text[:2000], "ids": tok.encode(train_text[:2000], add_special_tokens=False).ids})
    with open(os.path.join(folder, "expected_ids.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False)
    return tok


def make_model(family, size, vocab):
    common = dict(vocab_size=vocab)
    if family == "gpt2":
        cfg = transformers.GPT2Config(n_layer=size["layers"], n_embd=size["width"], n_head=size["heads"],
                                      n_positions=size["positions"], bos_token_id=0, eos_token_id=0, **common)
        return transformers.GPT2LMHeadModel(cfg)
    if family == "opt":
        cfg = transformers.OPTConfig(hidden_size=size["width"], ffn_dim=4 * size["width"], num_hidden_layers=size["layers"],
                                     num_attention_heads=size["heads"], max_position_embeddings=size["positions"],
                                     word_embed_proj_dim=size["width"], bos_token_id=0, eos_token_id=0, pad_token_id=1,
                                     **common)
        return transformers.OPTForCausalLM(cfg)
    cls = {"llama": (transformers.LlamaConfig, transformers.LlamaForCausalLM),
           "mistral": (transformers.MistralConfig, transformers.MistralForCausalLM),
           "qwen2": (transformers.Qwen2Config, transformers.Qwen2ForCausalLM)}[family]
    extra = {"sliding_window": None} if family in ("mistral", "qwen2") else {}
    cfg = cls[0](hidden_size=size["width"], intermediate_size=size["ffn"], num_hidden_layers=size["layers"],
                 num_attention_heads=size["heads"], num_key_value_heads=size["kv"], max_position_embeddings=size["positions"],
                 tie_word_embeddings=size.get("tied", False), rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2,
                 **extra, **common)
    return cls[1](cfg)


def batches(ids, seq, batch, generator):
    n = ids.numel() - seq - 1
    while True:
        starts = torch.randint(0, n, (batch,), generator=generator)
        yield torch.stack([ids[s:s + seq] for s in starts])


def train(model, ids, seq, seconds, steps_max, lr):
    model.to(DEVICE).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    gen = torch.Generator().manual_seed(0)
    it = batches(ids, seq, 32, gen)
    start, step = time.time(), 0
    while step < steps_max and time.time() - start < seconds:
        x = next(it).to(DEVICE)
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=DEVICE == "cuda"):
            loss = model(input_ids=x, labels=x).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, (step + 1) / 100)
        opt.step()
        step += 1
    log(f"  trained {step} steps in {time.time() - start:.0f} s, last loss {loss.item():.3f}")
    return model.eval()


def save(model, folder, tokenizer_folder, dtype, shard):
    model = model.to(dtype)
    kwargs = {"max_shard_size": shard} if shard else {}
    model.save_pretrained(folder, **kwargs)
    for name in os.listdir(tokenizer_folder):
        if name != "expected_ids.json":
            shutil.copy(os.path.join(tokenizer_folder, name), folder)
    return model


@torch.no_grad()
def reference_logits(folder, tokenizer, vocab):
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    ids = [tokenizer.encode(TEXTS[0], add_special_tokens=False).ids,
           torch.randint(0, vocab, (19,), generator=torch.Generator().manual_seed(1)).tolist()]
    out = []
    for seq in ids:
        logits = model(input_ids=torch.tensor([seq])).logits[0]
        out.append({"ids": seq, "logits": logits.tolist()})
    with open(os.path.join(folder, "reference.json"), "w") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "cases": out}, f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kjv")
    p.add_argument("out")
    p.add_argument("--train-seconds", type=float, default=60)
    p.add_argument("--skip-bench", action="store_true")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    log("torch", torch.__version__, "transformers", transformers.__version__, "device", DEVICE)
    train_text, heldout = split_text(a.kjv, a.out)
    toks = {}
    for kind in ("bytelevel", "metaspace"):
        try:
            toks[kind] = train_tokenizer(kind, train_text, 1024, a.out)
            log("tokenizer", kind, toks[kind].get_vocab_size())
        except Exception as e:  # noqa: BLE001 - report and go on with the others
            log("FAILED tokenizer", kind, repr(e))
    train_ids = {k: torch.tensor(t.encode(train_text, add_special_tokens=False).ids) for k, t in toks.items()}
    log("train tokens", {k: v.numel() for k, v in train_ids.items()})

    tiny = dict(layers=2, width=64, heads=4, kv=2, ffn=160, positions=128)
    fixtures = [  # name, family, tokenizer, dtype, shard, size overrides
        ("gpt2-f32", "gpt2", "bytelevel", torch.float32, None, {}),
        ("llama-gqa-bf16-sharded", "llama", "metaspace", torch.bfloat16, "100KB", {}),
        ("llama-tied-f16", "llama", "bytelevel", torch.float16, None, {"tied": True, "kv": 4}),
        ("mistral-gqa-f32", "mistral", "metaspace", torch.float32, None, {"kv": 1}),
        ("qwen2-gqa-bf16", "qwen2", "bytelevel", torch.bfloat16, None, {}),
        ("opt-f32", "opt", "bytelevel", torch.float32, None, {}),
    ]
    for name, family, tk, dtype, shard, over in fixtures:
        try:
            log("fixture", name)
            torch.manual_seed(len(name))
            vocab = toks[tk].get_vocab_size()
            model = make_model(family, {**tiny, **over}, vocab)
            model = train(model, train_ids[tk], 64, 5, 150, 3e-3)
            folder = os.path.join(a.out, "fixtures", name)
            save(model, folder, os.path.join(a.out, "tokenizers", tk), dtype, shard)
            reference_logits(folder, toks[tk], vocab)
        except Exception as e:  # noqa: BLE001
            log("FAILED fixture", name, repr(e))

    if a.skip_bench:
        return
    bench = [
        ("gpt2-kjv", "gpt2", "bytelevel", dict(layers=6, width=256, heads=8, kv=8, ffn=1024, positions=512)),
        ("llama-gqa-kjv", "llama", "metaspace", dict(layers=6, width=256, heads=8, kv=2, ffn=688, positions=512)),
    ]
    calib = dict(nsamples=64, seqlen=256, seed=0)
    results = {"calibration": calib, "evaluation": {"seqlen": 256, "text": "kjv-heldout.txt"}, "models": {}}
    for name, family, tk, size in bench:
        try:
            log("bench", name)
            torch.manual_seed(0)
            model = make_model(family, size, toks[tk].get_vocab_size())
            model = train(model, train_ids[tk], 256, a.train_seconds, 20000, 2e-3)
            folder = os.path.join(a.out, "bench", name)
            save(model, folder, os.path.join(a.out, "tokenizers", tk), torch.bfloat16, "8MB")
            heldout_ids = torch.tensor(toks[tk].encode(heldout, add_special_tokens=False).ids)
            rows = ref.evaluate_methods(folder, train_ids[tk], heldout_ids, calib, 256, DEVICE, log)
            results["models"][name] = rows
            with open(os.path.join(a.out, "reference.json"), "w") as f:
                json.dump(results, f, indent=1)
        except Exception as e:  # noqa: BLE001
            log("FAILED bench", name, repr(e))
    log("done")


if __name__ == "__main__":
    main()
