#!/usr/bin/env bash
# Pruning at initialisation and the data-driven weight criteria on a Fashion-MNIST subset (see docs/benchmarks.md).
# Usage: bench/scripts/at_init_fashion.sh OUT [part...]; parts: collapse, collapse-mlp, collapse-conv6, collapse-vgg11,
# dense, grid, grid-conv6, dense-conv6, grid-vgg11, dense-vgg11, criteria (default: collapse dense grid criteria).
# Environment: METHODS (collapse*, grid-*, criteria), SPARSITIES (grid, grid-*), THREADS (libtorch threads, default 2),
# SEED (initialisation, batch order and random pruning, default 0; the grid-*, dense-* and criteria files get a
# -sSEED suffix when set), TRAIN_IMAGES and TEST_IMAGES (the subset, default 5000 and 2000; 60000 and 10000 copy the
# full set), LR (Adam's rate, default 2e-3), NORMALIZE (MEAN/STD of the inputs, default none: [0, 1] pixels).
# Reduced to fit a shared 2-core machine: the first 5,000 training and 2,000 test images, LeNet-5, 2 epochs, 1 seed.
# The criteria comparison prunes fc1 and fc2 of LeNet-300-100 (the classifier fc3 stays dense: APoZ and entropy need a ReLU after the layer).
set -euo pipefail
out=${1:?output folder}; shift
parts=${*:-collapse dense grid criteria}
cli=${CLI:-src/PruneSharp.Cli/bin/Release/net10.0/PruneSharp.Cli}
n_train=${TRAIN_IMAGES:-5000}; n_test=${TEST_IMAGES:-2000}
data=$out/fm${n_train}-${n_test}
mkdir -p "$out"
[ -d "$data" ] || python3 bench/scripts/fashion_subset.py "$n_train" "$n_test" "$data"
common=(--data "$data" --optimizer adam --lr ${LR:-2e-3} --batch-size 64 --threads ${THREADS:-2} --seed ${SEED:-0} --json)
[ -z "${NORMALIZE:-}" ] || common+=(--normalize "$NORMALIZE")
train=("${common[@]}" --epochs 2)
# collapse MODEL PREFIX: every method at 99.9%. A collapsed network is at chance by construction: it is scored
# (--epochs 0) but not trained; where a path survives, it is trained.
collapse() {
  for m in ${METHODS:-synflow snip grasp magnitude random}; do
    $cli train --model $1 "${common[@]}" --epochs 0 --at-init $m --sparsity 0.999 -o "$out/$2-$m.onnx" > "$out/$2-$m.json"
    if grep -q '"path_survives": true' "$out/$2-$m.json"; then
      $cli train --model $1 "${train[@]}" --at-init $m --sparsity 0.999 -o "$out/$2-$m.onnx" > "$out/$2-$m.json"
    fi
  done
}
# grid MODEL PREFIX: every method in METHODS at every sparsity in SPARSITIES; files PREFIX-METHOD-SPARSITY[-sSEED].
grid() {
  for s in ${SPARSITIES:-0.9 0.99}; do
    for m in ${METHODS:-synflow snip magnitude}; do
      f=$out/$2-$m-$s${SEED:+-s$SEED}
      $cli train --model $1 "${common[@]}" --epochs 0 --at-init $m --sparsity $s -o "$f.onnx" > "$f.json"
      if grep -q '"path_survives": true' "$f.json"; then
        $cli train --model $1 "${train[@]}" --at-init $m --sparsity $s -o "$f.onnx" > "$f.json"
      fi
    done
  done
}
zoo_name() { case $1 in conv6) echo conv-6 ;; vgg11) echo vgg-11 ;; esac; }
for part in $parts; do
  case $part in
    collapse) collapse lenet-5 collapse ;;
    # The same check on LeNet-300-100 (266,200 weights, 266 kept at 99.9%).
    collapse-mlp) collapse lenet-300-100 collapse-mlp ;;
    # The same check on Conv-6 (about 1.8 M layer weights, about 1,800 kept at 99.9%), the model of the SynFlow target.
    collapse-conv6) collapse conv-6 collapse-conv6 ;;
    # And on VGG-11 with BN (9.2 M layer weights, about 9,200 kept at 99.9%).
    collapse-vgg11) collapse vgg-11 collapse-vgg11 ;;
    # MODEL at each sparsity (grid-conv6: Conv-6, grid-vgg11: VGG-11 with BN): scored first (--epochs 0); trained
    # only where a path survives (a collapsed network stays at chance by construction, and training it would cost as
    # much as any other run).
    grid-conv6|grid-vgg11) grid "$(zoo_name ${part#grid-})" $part ;;
    dense-conv6|dense-vgg11)
      f=$out/grid-${part#dense-}-dense${SEED:+-s$SEED}
      $cli train --model "$(zoo_name ${part#dense-})" "${train[@]}" -o "$f.onnx" > "$f.json" ;;
    dense)
      $cli train --model lenet-5 "${train[@]}" -o "$out/grid-dense.onnx" > "$out/grid-dense.json" ;;
    grid)
      for s in ${SPARSITIES:-0.9 0.99 0.95 0.98}; do
        for m in synflow snip grasp magnitude random; do
          $cli train --model lenet-5 "${train[@]}" --at-init $m --sparsity $s -o "$out/grid-$m-$s.onnx" > "$out/grid-$m-$s.json"
        done
      done ;;
    criteria)
      # The dense model and each pruned one get a -sSEED suffix when SEED is set (the dense model is trained with
      # that seed; prune's seed orders the fine-tune batches and draws the random criterion's weights).
      dense=$out/lenet300${SEED:+-s$SEED}
      [ -f "$dense.onnx" ] || $cli train --model lenet-300-100 "${train[@]}" -o "$dense.onnx" > "$dense.json"
      for m in ${METHODS:-magnitude random snip taylor obd movement apoz entropy loss-change}; do
        f=$out/criteria-$m${SEED:+-s$SEED}
        $cli prune "$dense.onnx" --method $m --sparsity 0.9 --first-last prune --exclude fc3.weight --data "$data" --finetune-epochs 1 \
          --optimizer adam --lr 1e-3 --batch-size 64 --threads ${THREADS:-2} --seed ${SEED:-0} --json -o "$f.onnx" > "$f.json"
      done ;;
  esac
done
