"""Makes the SentencePiece fixtures of SentencePieceTokenizerTests with Debian's python3-sentencepiece (0.1.97).

Two small models trained on the first 3,000 verses of the KJV text (Debian's bible-kjv), in the two kinds that
checkpoints ship as tokenizer.model: BPE with byte fallback (the Llama 2 / Mistral layout: <unk>, <s>, </s>, then the
256 byte pieces) and Unigram (T5-style, no byte fallback). For each, the ids that sentencepiece gives for a list of
texts (no BOS/EOS: encode as is) and the text its decoder gives back.

Usage: /usr/bin/python3 make_sentencepiece.py OUT_FOLDER
"""
import json
import os
import subprocess
import sys

import sentencepiece as spm

TEXTS = [
    "In the beginning God created the heaven and the earth.",
    "And God said, Let there be light: and there was light.",
    "  leading spaces, double  spaces and a trailing one ",
    "Line one\nLine two\ttabbed",
    "Numbers 3:16 and 1,024 tokens; UPPER and lower.",
    "Unseen: café, naïve, Zürich, 東京, emoji 🙂 and ∑.",
    "",
    "wherefore",
]


def main(out):
    verses = subprocess.run("bible -f gen1:1-rev22:21 </dev/null | sed 's/^[^ ]* //' | head -n 3000",
                            shell=True, check=True, capture_output=True, text=True).stdout
    corpus = os.path.join(out, "corpus.txt")
    os.makedirs(out, exist_ok=True)
    with open(corpus, "w") as f:
        f.write(verses)
    kinds = {
        # Llama 2's trainer settings: no normalization, whitespace kept as written, digits split.
        "sp-bpe": dict(model_type="bpe", vocab_size=512, byte_fallback=True, character_coverage=1.0, normalization_rule_name="identity",
                       remove_extra_whitespaces=False, split_digits=True, allow_whitespace_only_pieces=True),
        # T5's: NFKC normalization (a precompiled character map in the file), extra whitespace removed.
        "sp-unigram": dict(model_type="unigram", vocab_size=400, character_coverage=1.0),
    }
    for name, options in kinds.items():
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(folder, "tokenizer"), bos_id=1, eos_id=2,
                                       unk_id=0, pad_id=-1, num_threads=1, seed_sentencepiece_size=100000, **options)
        os.remove(os.path.join(folder, "tokenizer.vocab"))
        processor = spm.SentencePieceProcessor(model_file=os.path.join(folder, "tokenizer.model"))
        cases = []
        for text in TEXTS:
            ids = processor.encode(text)
            cases.append({"text": text, "ids": ids, "decoded": processor.decode(ids)})
        with open(os.path.join(folder, "expected_sentencepiece_ids.json"), "w") as f:
            f.write("[\n" + ",\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n]\n")
    os.remove(corpus)


if __name__ == "__main__":
    main(sys.argv[1])
