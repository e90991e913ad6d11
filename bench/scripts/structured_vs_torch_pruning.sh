#!/usr/bin/env bash
# Structured pruning side by side: Torch-Pruning 1.6.1 (PyTorch 1.13) and PruneSharp on the same exported
# torchvision models (L2 magnitude, 50% of channels, round to 8, classifier ignored), then ONNX Runtime latency of
# dense, Torch-Pruning-pruned and PruneSharp-pruned models in one process.
# Needs: /usr/bin/python3 with python3-torch, python3-torchvision, libopenblas0-pthread; TORCH_PRUNING_SRC=<its source>.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/out
models=("${@:-resnet18 mobilenet_v2}")
/usr/bin/python3 bench/scripts/torch_pruning_side.py "$out" ${models[@]} | grep RESULT
dotnet build -c Release bench/PruneSharp.Bench -v q -nologo | grep -E "error" || true
run() { dotnet run -c Release --no-build --project bench/PruneSharp.Bench -- "$@"; }
for m in ${models[@]}; do
  ignore=fc; [[ $m == mobilenet* ]] && ignore=classifier
  echo "== $m: PruneSharp"
  run structured "$out/$m-dense.onnx" "$out/$m-ps.onnx" 0.5 8 "$ignore"
  for batch in 1 16; do
    run latency --batch "$batch" --rounds 20 "$out/$m-dense.onnx" "$out/$m-tp.onnx" "$out/$m-ps.onnx"
  done
done
