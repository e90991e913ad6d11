#!/usr/bin/env bash
# The reference formulation (bench/llm/pruning_reference.py) on this machine's CPU, without transformers or tokenizers:
# the texts are tokenised by PruneSharp (`bench llm-tokens`, the checkpoint's own tokenizer, equal to the tokenizers
# package on our fixtures) and the model is torch_gpt2.py (GPT-2 only; its dense perplexity is checked against the
# transformers run in reference-device.json). Writes OUT_DIR/reference-MODEL.json with every method at 50%, 2:4, 4:8.
# Usage: bash bench/llm/reference_cpu.sh OUT_DIR [MODEL]   (default gpt2-kjv; TORCH_THREADS=2)
set -euo pipefail
source "$(dirname "$0")/setup.sh"
dotnet build -c Release bench/PruneSharp.Bench -v q -nologo | grep -E " error " || true
bench=bench/PruneSharp.Bench/bin/Release/net10.0/PruneSharp.Bench
for model in "${models[@]}"; do
  for part in train heldout; do
    "$bench" llm-tokens "bench/llm/checkpoints/$model" "$out/kjv/kjv-$part.txt" "$out/$model-$part-ids.safetensors" >/dev/null
  done
  /usr/bin/python3 - "$model" "$out" "${TORCH_THREADS:-2}" <<'PY'
import json, sys
sys.path.insert(0, "bench/llm")
import torch
import pruning_reference as ref
import torch_gpt2
model, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.set_num_threads(threads)
ids = lambda part: torch_gpt2.read_safetensors(f"{out}/{model}-{part}-ids.safetensors")["ids"]
calib = dict(nsamples=64, seqlen=256, seed=0)
rows = ref.evaluate_methods(f"bench/llm/checkpoints/{model}", ids("train"), ids("heldout"), calib, 256, "cpu",
                            lambda *m: print(*m, flush=True))
with open(f"{out}/reference-{model}.json", "w") as f:
    json.dump({"calibration": calib, "evaluation": {"seqlen": 256, "text": "kjv-heldout.txt"},
               "model": "torch_gpt2.py" if ref.transformers is None else "transformers", "rows": rows}, f, indent=1)
PY
done
