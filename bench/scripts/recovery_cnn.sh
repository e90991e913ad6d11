#!/usr/bin/env bash
# Issue 14's CNN result: a VGG-style CNN with BatchNorm trained in PyTorch on Fashion-MNIST (bench/recovery_cnn.py,
# opset 11), 30% of its channels removed, then distilled from the dense model on the first EXAMPLES training images
# with their labels unused; fidelity to the dense model on the 10,000 held-out test images before and after
# distillation, accuracies, and ONNX Runtime latency of the three files.
# Usage: bash bench/scripts/recovery_cnn.sh [distillation epochs, default 2] [EXAMPLES, default 15000]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/out/recovery
epochs=${1:-2}
examples=${2:-15000}
mkdir -p "$out/data"
# The first EXAMPLES training images and the whole test split, as uncompressed IDX files.
/usr/bin/python3 - "$out/data" "$examples" <<'PY'
import gzip, sys
folder, count = sys.argv[1], int(sys.argv[2])
for prefix, n in (("train", count), ("t10k", 10000)):
    for kind, size, header in (("images-idx3-ubyte", 784, 16), ("labels-idx1-ubyte", 1, 8)):
        data = gzip.open(f"/usr/share/datasets/fashion-mnist/{prefix}-{kind}.gz").read()
        head = bytearray(data[:header]); head[4:8] = n.to_bytes(4, "big")
        open(f"{folder}/{prefix}-{kind}", "wb").write(bytes(head) + data[header:header + n * size])
PY
dotnet build -c Release src/PruneSharp.Cli -v q -nologo | grep -E " error " || true
dotnet build -c Release bench/PruneSharp.Bench -v q -nologo | grep -E " error " || true
cli() { dotnet src/PruneSharp.Cli/bin/Release/net10.0/PruneSharp.Cli.dll "$@"; }
[[ -s $out/cnn.onnx ]] || TORCH_THREADS=1 /usr/bin/python3 bench/recovery_cnn.py "$out/cnn.onnx" 1
cli eval "$out/cnn.onnx" --data fashion-mnist
cli prune "$out/cnn.onnx" --structured channel --method l2 --ratio 0.3 --data fashion-mnist -o "$out/cnn-c30.onnx"
cli eval "$out/cnn-c30.onnx" --reference "$out/cnn.onnx" --data fashion-mnist
/usr/bin/time -f "%e s wall, %U s user" \
  dotnet src/PruneSharp.Cli/bin/Release/net10.0/PruneSharp.Cli.dll prune "$out/cnn.onnx" --structured channel --method l2 --ratio 0.3 --data "$out/data" \
  --recover distill --finetune-epochs "$epochs" --optimizer adam --lr 1e-3 --batch-size 64 -o "$out/cnn-c30-kd.onnx"
cli eval "$out/cnn-c30-kd.onnx" --reference "$out/cnn.onnx" --data fashion-mnist
# Latency needs no weights: the same ratio with channel counts kept to multiples of 8, undistilled.
cli prune "$out/cnn.onnx" --structured channel --method l2 --ratio 0.3 --round-to 8 -o "$out/cnn-c30-r8.onnx"
bench() { dotnet bench/PruneSharp.Bench/bin/Release/net10.0/PruneSharp.Bench.dll "$@"; }
bench latency --channels 1 --size 28 --batch 1 --threads 1 --rounds 30 --block 20 "$out/cnn.onnx" "$out/cnn-c30-kd.onnx" "$out/cnn-c30-r8.onnx"
bench latency --channels 1 --size 28 --batch 64 --threads 2 --rounds 20 "$out/cnn.onnx" "$out/cnn-c30-kd.onnx" "$out/cnn-c30-r8.onnx"
