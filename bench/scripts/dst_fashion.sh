#!/usr/bin/env bash
# Dynamic sparse training (RigL, SET) at 90% against the dense model trained as long: LeNet-5 on the full
# Fashion-MNIST (60,000 training, 10,000 test images), Adam on normalised inputs (see docs/benchmarks.md).
# Usage: bench/scripts/dst_fashion.sh OUT [seed...] (default seeds: 0 1 2); runs seed by seed (dense, set, rigl).
# Environment: MODEL (zoo name, default lenet-5; other models' files get a MODEL- prefix), EPOCHS (default 2),
# UPDATE_EVERY (ΔT, default 100), THREADS (libtorch threads, default 2), DATA (default fashion-mnist; an IDX folder such
# as one written by bench/scripts/fashion_subset.py),
# CLI (the prunesharp executable).
set -euo pipefail
out=${1:?output folder}; shift
seeds=${*:-0 1 2}
cli=${CLI:-src/PruneSharp.Cli/bin/Release/net10.0/PruneSharp.Cli}
mkdir -p "$out"
prefix=${MODEL:+${MODEL/#lenet-5/}}; prefix=${prefix:+$prefix-}
for seed in $seeds; do
  common=(--model ${MODEL:-lenet-5} --data ${DATA:-fashion-mnist} --epochs ${EPOCHS:-2} --optimizer adam --lr 2e-3 --batch-size 64
          --normalize 0.2860/0.3530 --threads ${THREADS:-2} --seed $seed --json)
  $cli train "${common[@]}" -o "$out/${prefix}dense-$seed.onnx" > "$out/${prefix}dense-$seed.json"
  for method in set rigl; do
    $cli train "${common[@]}" --sparse-training $method --sparsity 0.9 --update-every ${UPDATE_EVERY:-100} \
      -o "$out/$prefix$method-$seed.onnx" > "$out/$prefix$method-$seed.json"
  done
done
