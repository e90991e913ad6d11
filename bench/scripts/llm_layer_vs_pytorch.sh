#!/usr/bin/env bash
# Retraining-free pruning of one linear layer side by side: PyTorch 1.13 (bench/llm_layer_pytorch.py, our own
# formulation of the papers) and PruneSharp (bench llm-layer), same W and X files, same thread count.
# Per layer shape: statistics accumulation (2048 tokens in batches of 512), Wanda 50%, SparseGPT 50% and 2:4.
# ROUNDS (default 3) rounds, each running both tools in fresh processes, alternating; medians; ratio = ours/PyTorch
# (below 1: we are faster). Both see the allocator settings PruneSharp's commands choose (as the other scripts).
# Usage: bench/scripts/llm_layer_vs_pytorch.sh [SHAPES] [THREADS]   e.g. 1024x1024,2048x2048,5632x2048 2
set -euo pipefail
cd "$(dirname "$0")/../.."
shapes=${1:-1024x1024,2048x2048,5632x2048}
threads=${2:-2}
rounds=${ROUNDS:-3}
tokens=2048
data=${LLM_LAYER_DATA:-/tmp/prunesharp-llm-layer}
py=/usr/bin/python3
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=2147483647 MALLOC_TOP_PAD_=67108864

$py bench/llm_layer_pytorch.py data "$data" "$shapes" "$tokens"
dotnet build -c Release bench/PruneSharp.Bench -v q -nologo | grep -E " error " || true
bench=bench/PruneSharp.Bench/bin/Release/net10.0/PruneSharp.Bench
results=$(mktemp)
for r in $(seq "$rounds"); do
  $py bench/llm_layer_pytorch.py time "$data" "$shapes" "$tokens" "$threads" | grep RESULT >>"$results"
  $bench llm-layer "$data" "$shapes" "$tokens" "$threads" | grep RESULT >>"$results"
done
echo "$threads thread(s), $rounds rounds, load average at the end: $(cut -d' ' -f1 /proc/loadavg) ($(nproc) cores)"
$py - "$results" <<'PY'
import json, statistics, sys
runs = [json.loads(line.split("RESULT ", 1)[1]) for line in open(sys.argv[1])]
print(f"{'shape':11} {'method':15} {'PyTorch s':>10} {'PruneSharp s':>13} {'ratio':>6}  {'error PyTorch':>13} {'error ours':>11}")
for shape in dict.fromkeys(r["shape"] for r in runs):
    for method in dict.fromkeys(r["method"] for r in runs):
        side = {tool: [r for r in runs if r["shape"] == shape and r["method"] == method and r["tool"] == tool]
                for tool in ("pytorch", "prunesharp")}
        theirs, ours = (statistics.median(r["seconds"] for r in side[t]) for t in ("pytorch", "prunesharp"))
        errors = [side[t][0]["error"] for t in ("pytorch", "prunesharp")]
        shown = "" if errors[0] is None else f"  {errors[0]:13.6f} {errors[1]:11.6f}"
        print(f"{shape:11} {method:15} {theirs:10.3f} {ours:13.3f} {ours / theirs:6.2f}{shown}")
PY
rm -f "$results"
