#!/usr/bin/env bash
# Structured pruning side by side: Torch-Pruning 1.6.1 (PyTorch 1.13) and PruneSharp on the same exported torchvision
# models (L2 magnitude, 50% of channels, round to 8, classifier ignored):
#   1. parameters and MACs of both pruned models;
#   2. pruning time: ROUNDS (default 5) rounds, each pruning every model once with each tool in a fresh process,
#      alternating, so both see the same machine; medians;
#   3. ONNX Runtime latency of the dense, Torch-Pruning-pruned and PruneSharp-pruned models in one process, 2 and 1
#      threads, batch 1 and 16: rounds in which each model runs once untimed and then 3 timed runs in a row.
# Both tools run with the allocator settings PruneSharp's own commands choose (TorchEngine.RetainFreedMemory: freed
# tensor memory stays mapped), given to Python through glibc's MALLOC_* variables.
# Needs: /usr/bin/python3 with python3-torch, python3-torchvision, libopenblas0-pthread; TORCH_PRUNING_SRC=<its source>.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/out
rounds=${ROUNDS:-5}
models=(${@:-resnet18 mobilenet_v2 resnet50})
py=/usr/bin/python3
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=2147483647 MALLOC_TOP_PAD_=67108864

echo "== parameters and MACs (Torch-Pruning's counter)"
$py bench/scripts/torch_pruning_side.py export "$out" "${models[@]}" 2>/dev/null | grep RESULT
dotnet build -c Release bench/PruneSharp.Bench -v q -nologo | grep -E " error " || true
bench=bench/PruneSharp.Bench/bin/Release/net10.0/PruneSharp.Bench
ignore_of() { [[ $1 == mobilenet* ]] && echo classifier || echo fc; }
for m in "${models[@]}"; do
  echo "== $m: PruneSharp"
  $bench structured "$out/$m-dense.onnx" "$out/$m-ps.onnx" 0.5 8 "$(ignore_of "$m")" | grep -v RESULT
done

echo "== pruning time, $rounds rounds of fresh processes"
times=$(mktemp)
for r in $(seq "$rounds"); do
  for m in "${models[@]}"; do
    $py bench/scripts/torch_pruning_side.py time "$m" 2>/dev/null | grep RESULT >>"$times"
    $bench structured "$out/$m-dense.onnx" "$out/$m-ps.onnx" 0.5 8 "$(ignore_of "$m")" | grep RESULT |
      sed "s/{/{\"model\":\"$m\",/" >>"$times"
  done
done
$py - "$times" <<'PY'
import json, statistics, sys
runs = [json.loads(line.split("RESULT ", 1)[1]) for line in open(sys.argv[1])]
for model in dict.fromkeys(r["model"] for r in runs):
    for tool in ("torch-pruning", "prunesharp"):
        mine = [r for r in runs if r["model"] == model and r["tool"] == tool]
        total = statistics.median(r["seconds"] for r in mine)
        graph = statistics.median(r["graph_seconds"] for r in mine)
        spread = f'{min(r["seconds"] for r in mine):.3f}-{max(r["seconds"] for r in mine):.3f}'
        print(f"  {model:14} {tool:14} median {total:.3f} s (graph {graph:.3f} s), range {spread} s over {len(mine)} runs")
PY
rm -f "$times"

for m in "${models[@]}"; do
  for threads in 2 1; do
    for batch in 1 16; do
      $bench latency --threads "$threads" --batch "$batch" --rounds 8 --block 3 "$out/$m-dense.onnx" "$out/$m-tp.onnx" "$out/$m-ps.onnx"
    done
  done
done
