#!/usr/bin/env bash
# Issue 14's CNN result: a VGG-style CNN with BatchNorm trained in PyTorch on Fashion-MNIST (bench/recovery_cnn.py),
# exported at OPSET, 30% of its channels removed, then distilled from the dense model on the first EXAMPLES training
# images with their labels unused (with exact 30% and with channel counts rounded down to multiples of 8); fidelity to
# the dense model on the 10,000 held-out test images before and after distillation, accuracies, and ONNX Runtime
# latency of the dense and pruned files.
# Usage: bash bench/scripts/recovery_cnn.sh [distillation epochs, default 2] [EXAMPLES, default 15000] [OPSET, default 11]
# OPSET 11 writes to bench/out/recovery, any other to bench/out/recovery-opsetOPSET. Below 11 (an older exporter's
# file, upgraded to 11 on import) the distilled files are written back at OPSET with --keep-opset and checked against
# ONNX Runtime; the undistilled 30% file is written both ways (the default output opset is 11).
set -euo pipefail
cd "$(dirname "$0")/../.."
epochs=${1:-2}
examples=${2:-15000}
opset=${3:-11}
if [[ $opset == 11 ]]; then out=bench/out/recovery; else out=bench/out/recovery-opset$opset; fi
keep=(); [[ $opset -lt 11 ]] && keep=(--keep-opset)
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
timed() { /usr/bin/time -f "%e s wall, %U s user" dotnet src/PruneSharp.Cli/bin/Release/net10.0/PruneSharp.Cli.dll "$@"; }
opsetof() { cli inspect "$1" | grep -E "^opset"; }
[[ -s $out/cnn.onnx ]] || OPSET=$opset TORCH_THREADS=1 /usr/bin/python3 bench/recovery_cnn.py "$out/cnn.onnx" 1
opsetof "$out/cnn.onnx"
cli eval "$out/cnn.onnx" --data fashion-mnist
# 30% of every convolution's channels, no recovery (written at the default opset, and at OPSET with --keep-opset).
cli prune "$out/cnn.onnx" --structured channel --method l2 --ratio 0.3 --data fashion-mnist -o "$out/cnn-c30.onnx"
opsetof "$out/cnn-c30.onnx"
cli eval "$out/cnn-c30.onnx" --reference "$out/cnn.onnx" --data fashion-mnist
if [[ $opset -lt 11 ]]; then
  cli prune "$out/cnn.onnx" --structured channel --method l2 --ratio 0.3 --data fashion-mnist "${keep[@]}" -o "$out/cnn-c30-keep.onnx"
  opsetof "$out/cnn-c30-keep.onnx"
  cli check "$out/cnn-c30-keep.onnx" --samples 2 | tail -2
  cli eval "$out/cnn-c30-keep.onnx" --reference "$out/cnn-c30.onnx" --data fashion-mnist
fi
# Distilled from the dense model, labels unused.
timed prune "$out/cnn.onnx" --structured channel --method l2 --ratio 0.3 --data "$out/data" \
  --recover distill --finetune-epochs "$epochs" --optimizer adam --lr 1e-3 --batch-size 64 "${keep[@]}" -o "$out/cnn-c30-kd.onnx"
opsetof "$out/cnn-c30-kd.onnx"
[[ $opset -lt 11 ]] && cli check "$out/cnn-c30-kd.onnx" --samples 2 | tail -2
cli eval "$out/cnn-c30-kd.onnx" --reference "$out/cnn.onnx" --data fashion-mnist
# The same ratio with channel counts kept to multiples of 8 (rounded down): undistilled, then distilled as above.
cli prune "$out/cnn.onnx" --structured channel --method l2 --ratio 0.3 --round-to 8 -o "$out/cnn-c30-r8.onnx"
cli eval "$out/cnn-c30-r8.onnx" --reference "$out/cnn.onnx" --data fashion-mnist
timed prune "$out/cnn.onnx" --structured channel --method l2 --ratio 0.3 --round-to 8 --data "$out/data" \
  --recover distill --finetune-epochs "$epochs" --optimizer adam --lr 1e-3 --batch-size 64 "${keep[@]}" -o "$out/cnn-c30-r8-kd.onnx"
opsetof "$out/cnn-c30-r8-kd.onnx"
[[ $opset -lt 11 ]] && cli check "$out/cnn-c30-r8-kd.onnx" --samples 2 | tail -2
cli eval "$out/cnn-c30-r8-kd.onnx" --reference "$out/cnn.onnx" --data fashion-mnist
bench() { dotnet bench/PruneSharp.Bench/bin/Release/net10.0/PruneSharp.Bench.dll "$@"; }
bench latency --size 28 --batch 1 --threads 1 --rounds 30 --block 20 "$out/cnn.onnx" "$out/cnn-c30-kd.onnx" "$out/cnn-c30-r8-kd.onnx"
bench latency --size 28 --batch 64 --threads 2 --rounds 20 "$out/cnn.onnx" "$out/cnn-c30-kd.onnx" "$out/cnn-c30-r8-kd.onnx"
