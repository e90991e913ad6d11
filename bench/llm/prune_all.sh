#!/usr/bin/env bash
# Prunes the two KJV-trained Hugging Face checkpoints (bench/llm/checkpoints) with magnitude, Wanda and SparseGPT at
# 50%, 2:4 and 4:8 (64 calibration windows of 256 tokens from the training text, as reference-device.json), scores
# held-out perplexity, and writes for each pruned checkpoint NAME/ (the checkpoint), NAME.json (our perplexity),
# NAME.prune.json (the prune report) and NAME.logits.safetensors (our logits, for check_in_transformers.py).
# Prints our perplexity beside the reference formulation's (bench/llm/pruning_reference.py run by make_checkpoints.py).
# Usage: bash bench/llm/prune_all.sh OUT_DIR [MODEL ...] (default: gpt2-kjv llama-gqa-kjv; PATTERNS="0.5 2:4 4:8",
# METHODS="magnitude wanda sparsegpt" override)
set -euo pipefail
source "$(dirname "$0")/setup.sh"
dotnet build -c Release bench/PruneSharp.Bench -v q -nologo | grep -E " error " || true
bench=bench/PruneSharp.Bench/bin/Release/net10.0/PruneSharp.Bench
for model in "${models[@]}"; do
  src=bench/llm/checkpoints/$model
  rm -rf "$out/$model-dense" && cp -r "$src" "$out/$model-dense"
  "$cli" llm eval "$src" --text "$out/kjv/kjv-heldout.txt" --seqlen 256 --batch-size 32 --json > "$out/$model-dense.json"
  "$bench" llm-logits "$src" "$out/kjv/kjv-heldout.txt" "$out/$model-dense.logits.safetensors" >/dev/null
  for method in ${METHODS:-magnitude wanda sparsegpt}; do
    for pattern in ${PATTERNS:-0.5 2:4 4:8}; do
      name=$model-$method-${pattern/:/of}
      /usr/bin/time -f "%e s wall, %M KB peak" -o "$out/$name.time" \
        "$cli" llm prune "$src" --method "$method" --sparsity "$pattern" --calibration "$out/kjv/kjv-train.txt" \
        --nsamples 64 --seqlen 256 --replace --json -o "$out/$name" > "$out/$name.prune.json" 2>/dev/null
      "$cli" llm eval "$out/$name" --text "$out/kjv/kjv-heldout.txt" --seqlen 256 --batch-size 32 --json > "$out/$name.json"
      "$bench" llm-logits "$out/$name" "$out/kjv/kjv-heldout.txt" "$out/$name.logits.safetensors" >/dev/null
      echo "$name done ($(cat "$out/$name.time"))"
    done
  done
done
python3 - "$out" "${models[@]}" <<'PY'
import json, os, sys
out, models = sys.argv[1], sys.argv[2:]
ref = json.load(open("bench/llm/reference-device.json"))["models"]
print(f"{'model':16} {'method':10} {'sparsity':8} {'PruneSharp':>10} {'reference':>10} {'ratio':>6}")
for model in models:
    rows = {(r["method"], r["sparsity"]): r["perplexity"] for r in ref.get(model, [])}
    for name in sorted(os.listdir(out)):
        if not (name.startswith(model + "-") and name.endswith(".json")) or name.endswith(".prune.json"):
            continue
        rest = name[len(model) + 1:-5]
        method, _, pattern = rest.partition("-")
        pattern = pattern.replace("of", ":") if pattern else "0"
        ours = json.load(open(os.path.join(out, name)))["perplexity"]
        theirs = rows.get((method, pattern))
        ratio = f"{ours / theirs:6.3f}" if theirs else "     -"
        print(f"{model:16} {method:10} {pattern:8} {ours:10.3f} {theirs if theirs else float('nan'):10.3f} {ratio}")
PY
