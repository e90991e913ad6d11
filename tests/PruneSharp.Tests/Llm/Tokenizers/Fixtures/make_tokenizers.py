"""Writes small tokenizer.json files in the layouts of real checkpoints (GPT-2, Llama 3, Qwen2, Llama 2, Mistral v0.3),
with merges learnt here from a licence text, and the texts to check them on (expected_ids.json with ids to be filled by
expected_ids.mjs, which runs the Hugging Face tokenizers library). Run: python3 make_tokenizers.py CORPUS; node expected_ids.mjs."""
import collections, json, os, re, sys

corpus = open(sys.argv[1], encoding="utf-8").read()[:60000]

def byte_alphabet():
    table, nxt = [], 256
    for b in range(256):
        if 33 <= b <= 126 or 161 <= b <= 172 or 174 <= b <= 255:
            table.append(chr(b))
        else:
            table.append(chr(nxt)); nxt += 1
    return table

def learn(words, symbols_of, count):
    """Plain BPE training: merge the most frequent adjacent pair (first seen on ties), count times."""
    freq = collections.Counter(words)
    split = {w: list(symbols_of(w)) for w in freq}
    merges = []
    for _ in range(count):
        pairs = collections.Counter()
        for w, n in freq.items():
            s = split[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: kv[1])[0]
        merges.append(best)
        for w in freq:
            s, out, i = split[w], [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1]); i += 2
                else:
                    out.append(s[i]); i += 1
            split[w] = out
    return merges

def added(i, content, normalized=False):
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False, "normalized": normalized, "special": True}

def bpe(vocab, merges, **extra):
    model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
             "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab, "merges": merges}
    model.update(extra)
    return model

def byte_level_vocab(merges):
    vocab = {c: i for i, c in enumerate(byte_alphabet())}
    for a, b in merges:
        vocab.setdefault(a + b, len(vocab))
    return vocab

alphabet = byte_alphabet()
to_bytes = lambda w: "".join(alphabet[b] for b in w.encode("utf-8"))
words = [to_bytes(w) for w in re.findall(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+", corpus)]
byte_merges = learn(words, lambda w: w, 400)
byte_vocab = byte_level_vocab(byte_merges)
byte_decoder = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}

llama3_regex = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
qwen2_regex = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

def split_then_bytes(regex):
    return {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}

def with_added(vocab, names):
    tokens = []
    for name in names:
        tokens.append(added(len(vocab) + len(tokens), name))
    return tokens

tokenizers = {}
n = len(byte_vocab)
tokenizers["gpt2"] = {"version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [added(n, "<|endoftext|>")], "normalizer": None,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
    "decoder": byte_decoder, "model": bpe(byte_vocab, [f"{a} {b}" for a, b in byte_merges])}
tokenizers["llama3"] = {"version": "1.0", "truncation": None, "padding": None,
    "added_tokens": with_added(byte_vocab, ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|start_header_id|>"]),
    "normalizer": None, "pre_tokenizer": split_then_bytes(llama3_regex),
    "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
    "decoder": byte_decoder, "model": bpe(byte_vocab, [[a, b] for a, b in byte_merges], ignore_merges=True)}
tokenizers["qwen2"] = {"version": "1.0", "truncation": None, "padding": None,
    "added_tokens": with_added(byte_vocab, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]),
    "normalizer": {"type": "NFC"}, "pre_tokenizer": split_then_bytes(qwen2_regex),
    "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
    "decoder": byte_decoder, "model": bpe(byte_vocab, [f"{a} {b}" for a, b in byte_merges])}

# SentencePiece-style: ASCII characters only in the vocabulary, so anything else goes through byte fallback.
sp_words = re.findall(r"▁?[^▁]+|▁", "▁" + corpus.replace(" ", "▁"))
sp_char = lambda c: c == "▁" or (c.isascii() and c not in " \n\t\r")
sp_merges = learn(sp_words, lambda w: [c for c in w if sp_char(c)], 300)
sp_vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
for b in range(256):
    sp_vocab[f"<0x{b:02X}>"] = len(sp_vocab)
for c in sorted(set(c for c in corpus if sp_char(c)) | {"▁"}):
    sp_vocab.setdefault(c, len(sp_vocab))
for a, b in sp_merges:
    sp_vocab.setdefault(a + b, len(sp_vocab))
sp_specials = [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")]
sp_model = bpe(sp_vocab, [f"{a} {b}" for a, b in sp_merges], unk_token="<unk>", fuse_unk=True, byte_fallback=True)
# Llama 2's special tokens are matched after normalization (as "▁<s>" once Prepend has run).
tokenizers["llama2"] = {"version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [added(0, "<unk>", True), added(1, "<s>", True), added(2, "</s>", True)],
    "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"},
                                                      {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
    "pre_tokenizer": None,
    "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                       "pair": [{"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
    "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                                                 {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    "model": sp_model}
tokenizers["mistral-v03"] = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": sp_specials,
    "normalizer": None, "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False},
    "post_processor": None,
    "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}, "model": sp_model}

texts = [
    "", " ", "Hello world", " the program is free software", "  two  spaces and\ttabs\n\nnew lines\r\n",
    "I'll say it's what they're doing, we've done, you'd I'M DON'T", "numbers 1 12 123 1234 12345 3.14159 -7",
    "punctuation!!! (parentheses) \"quotes\" [brackets] {braces} --- ... ;:", "héllo wörld café naïve Ünïcödé",
    "Ｆｕｌｌ width and e\u0301 combining", "日本語のテキスト 中文文本", "emoji 😀 ok 👍🏽 and ✂ scissors",
    "<s>after bos", "text<s>between</s>tokens", "<|endoftext|>the end<|endoftext|>", "<|im_start|>user\nhi<|im_end|>",
    "<|begin_of_text|>Once upon a time", "trailing space ", "\n", "mixed\u00a0nbsp and\u2003em space",
    "GNU GENERAL PUBLIC LICENSE Version 3, 29 June 2007 Copyright (C) 2007 Free Software Foundation, Inc.",
    "😀abc a😀b", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 letters outside the BMP", "x\n\n\ny   \n z", "'s 'S 'Ll", "tab\there\t\t", "<unk> and <0x41>", "a <s> b</s>c", "<s> <s>",
    corpus[1000:1600],
]
for name, tokenizer in tokenizers.items():
    os.makedirs(name, exist_ok=True)
    with open(os.path.join(name, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(name, "expected_ids.json"), "w", encoding="utf-8") as f:
        json.dump([{"text": t, "ids": None} for t in texts], f, ensure_ascii=False, indent=1)
