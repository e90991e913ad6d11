#!/usr/bin/env bash
# ShortGPT against every other choice of layers: for each KJV-trained checkpoint (bench/llm/checkpoints) and each
# number of layers N to remove (default 1 and 2), removes every set of N layers with `prunesharp llm depth --layers`,
# scores held-out perplexity, and prints where the layers ShortGPT picks (lowest Block Influence, `--remove N`) rank
# among all sets, beside the dense model, the best and worst sets and the last N layers.
# Usage: bash bench/llm/depth_all.sh OUT_DIR [MODEL ...] (default: gpt2-kjv llama-gqa-kjv; REMOVE="1 2" overrides)
set -euo pipefail
source "$(dirname "$0")/setup.sh"
calibration=(--calibration "$out/kjv/kjv-train.txt" --nsamples 64 --seqlen 256)
eval_args=(--text "$out/kjv/kjv-heldout.txt" --seqlen 256 --batch-size 32 --json)
for model in "${models[@]}"; do
  src=bench/llm/checkpoints/$model
  "$cli" llm eval "$src" "${eval_args[@]}" > "$out/$model-dense.json"
  layers=$(python3 -c "import json,sys; c=json.load(open(sys.argv[1])); print(c.get('num_hidden_layers', c.get('n_layer')))" "$src/config.json")
  for n in ${REMOVE:-1 2}; do
    "$cli" llm depth "$src" --remove "$n" "${calibration[@]}" --replace --no-store --json -o "$out/$model-shortgpt-$n" > "$out/$model-shortgpt-$n.depth.json"
    for set in $(python3 -c "import itertools,sys; print(' '.join(','.join(map(str,c)) for c in itertools.combinations(range(int(sys.argv[1])), int(sys.argv[2]))))" "$layers" "$n"); do
      name=$model-layers-${set//,/-}
      "$cli" llm depth "$src" --layers "$set" "${calibration[@]}" --replace --no-store --json -o "$out/$name" > "$out/$name.depth.json"
      "$cli" llm eval "$out/$name" "${eval_args[@]}" > "$out/$name.json"
      rm -rf "${out:?}/$name"
    done
    echo "$model: all sets of $n layers scored"
  done
done
python3 - "$out" "${REMOVE:-1 2}" "${models[@]}" <<'PY'
import glob, json, os, sys
out, counts, models = sys.argv[1], [int(n) for n in sys.argv[2].split()], sys.argv[3:]
print("| model | removed | dense | ShortGPT's layers (block influence) | its perplexity | rank among all sets | best set | worst set | last layers |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for model in models:
    dense = json.load(open(f"{out}/{model}-dense.json"))["perplexity"]
    for n in counts:
        report = json.load(open(f"{out}/{model}-shortgpt-{n}.depth.json"))
        influence, chosen = report["blockInfluence"], report["removed"]
        layers = len(influence)
        scores = {}
        for path in glob.glob(f"{out}/{model}-layers-*.json"):
            if path.endswith(".depth.json"): continue
            key = tuple(int(x) for x in os.path.basename(path)[len(model) + 8:-5].split("-"))
            if len(key) == n: scores[key] = json.load(open(path))["perplexity"]
        ranked = sorted(scores, key=scores.get)
        mine = tuple(chosen)
        last = tuple(range(layers - n, layers))
        fmt = lambda k: ",".join(map(str, k))
        print(f"| {model} | {n} of {layers} | {dense:.3f} | {fmt(mine)} ({', '.join(f'{influence[i]:.4f}' for i in mine)}) | {scores[mine]:.3f} | "
              f"{ranked.index(mine) + 1} of {len(ranked)} | {fmt(ranked[0])}: {scores[ranked[0]]:.3f} | {fmt(ranked[-1])}: {scores[ranked[-1]]:.3f} | "
              f"{fmt(last)}: {scores[last]:.3f} |")
    print(f"| {model} | block influence per layer | | {', '.join(f'{b:.4f}' for b in influence)} | | | | | |")
PY
