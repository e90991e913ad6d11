"""Loads checkpoints that PruneSharp wrote in `transformers` and compares them with what PruneSharp computed.

For every folder NAME under ROOT that has a sibling NAME.logits.safetensors (tensors `ids`, I64 [B, T], and `logits`,
F32 [B, T, V]: PruneSharp's in-memory model on those ids) this prints and records:
- whether `from_pretrained` loaded every tensor (no missing, unexpected or mismatched keys);
- the largest absolute difference between transformers' logits (float32, eager attention) and PruneSharp's;
- per linear layer, the fraction of zeros and whether each row keeps n of every m inputs, for N:M names;
- with --heldout, the perplexity transformers computes on that text with the standard protocol (non-overlapping
  windows of --seqlen tokens, the remainder dropped, each window scoring its L-1 predictions), beside PruneSharp's
  figure read from NAME.json when present.

Usage: python3 bench/llm/check_in_transformers.py ROOT [--heldout FILE --seqlen L] [--json OUT]
"""
import argparse
import json
import os
import sys

import torch
import transformers
from safetensors.torch import load_file
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pruning_reference as ref  # noqa: E402


def nm_valid(w, n, m):
    if w.shape[1] % m:
        return False
    return bool(((w != 0).reshape(w.shape[0], -1, m).sum(2) <= n).all())


@torch.no_grad()
def check(folder, args, device):
    name = os.path.basename(folder)
    model, info = transformers.AutoModelForCausalLM.from_pretrained(
        folder, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    model = model.to(device).eval()
    row = {"name": name, "loading": {k: sorted(map(str, v)) for k, v in info.items() if v}}
    mine = load_file(folder + ".logits.safetensors")
    logits = model(input_ids=mine["ids"].to(device)).logits.float().cpu()
    row["max_abs_logit_difference"] = (logits - mine["logits"]).abs().max().item()
    row["max_abs_logit"] = mine["logits"].abs().max().item()
    zeros, total, nm = 0, 0, {}
    for layer in ref.decoder_layers(model):
        for lname, mod in ref.linears(layer).items():
            w = ref.weight_out_in(mod)
            zeros += (w == 0).sum().item()
            total += w.numel()
            for n, m in ((2, 4), (4, 8)):
                nm.setdefault(f"{n}:{m}", True)
                nm[f"{n}:{m}"] &= nm_valid(w, n, m)
    row["linear_sparsity"] = zeros / total
    row["nm_valid"] = nm
    if args.heldout:
        tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
        with open(args.heldout, encoding="utf-8") as f:
            ids = torch.tensor(tok.encode(f.read(), add_special_tokens=False).ids)
        row["perplexity"], row["windows"] = ref.perplexity(model, ids, args.seqlen)
        row["tokens"] = ids.numel()
    mine_json = folder + ".json"
    if os.path.exists(mine_json):
        with open(mine_json) as f:
            row["prunesharp"] = json.load(f)
    print(json.dumps(row), flush=True)
    return row


def main():
    p = argparse.ArgumentParser()
    p.add_argument("root")
    p.add_argument("--heldout")
    p.add_argument("--seqlen", type=int, default=256)
    p.add_argument("--json")
    args = p.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows = []
    for entry in sorted(os.listdir(args.root)):
        folder = os.path.join(args.root, entry)
        if os.path.isdir(folder) and os.path.exists(folder + ".logits.safetensors"):
            try:
                rows.append(check(folder, args, device))
            except Exception as e:  # noqa: BLE001 - report each checkpoint's failure and go on
                print(json.dumps({"name": entry, "error": repr(e)}), flush=True)
                rows.append({"name": entry, "error": repr(e)})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
