#!/usr/bin/env bash
# Issue 14's CNN result: a VGG-style CNN with BatchNorm trained in PyTorch on Fashion-MNIST (bench/recovery_cnn.py,
# opset 11), 30% of its channels removed, then distilled from the dense model on the training images with their
# labels unused; fidelity to the dense model on the 10,000 held-out test images before and after distillation,
# accuracies, and ONNX Runtime latency of the three files.
# Usage: bash bench/scripts/recovery_cnn.sh [distillation epochs, default 1]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/out/recovery
epochs=${1:-1}
mkdir -p "$out"
dotnet build -c Release src/PruneSharp.Cli -v q -nologo | grep -E " error " || true
dotnet build -c Release bench/PruneSharp.Bench -v q -nologo | grep -E " error " || true
cli() { dotnet src/PruneSharp.Cli/bin/Release/net10.0/PruneSharp.Cli.dll "$@"; }
[[ -s $out/cnn.onnx ]] || /usr/bin/python3 bench/recovery_cnn.py "$out/cnn.onnx" 2
cli eval "$out/cnn.onnx" --data fashion-mnist
cli prune "$out/cnn.onnx" --structured channel --method l2 --ratio 0.3 --data fashion-mnist -o "$out/cnn-c30.onnx"
cli eval "$out/cnn-c30.onnx" --reference "$out/cnn.onnx" --data fashion-mnist
/usr/bin/time -f "%e s wall, %U s user" \
  cli prune "$out/cnn.onnx" --structured channel --method l2 --ratio 0.3 --data fashion-mnist \
  --recover distill --finetune-epochs "$epochs" --optimizer adam --lr 1e-3 --batch-size 64 -o "$out/cnn-c30-kd.onnx"
cli eval "$out/cnn-c30-kd.onnx" --reference "$out/cnn.onnx" --data fashion-mnist
dotnet bench/PruneSharp.Bench/bin/Release/net10.0/PruneSharp.Bench.dll latency --channels 1 --size 28 --batch 1 --threads 1 --rounds 30 --block 20 \
  "$out/cnn.onnx" "$out/cnn-c30.onnx" "$out/cnn-c30-kd.onnx"
dotnet bench/PruneSharp.Bench/bin/Release/net10.0/PruneSharp.Bench.dll latency --channels 1 --size 28 --batch 64 --threads 2 --rounds 30 \
  "$out/cnn.onnx" "$out/cnn-c30-kd.onnx"
