#!/usr/bin/env bash
# Network slimming on VGG-11 with BatchNorm, full Fashion-MNIST (see docs/benchmarks.md): VGG-11 trained with and
# without the BN-scale L1 penalty, then half of all convolution channels removed by one global |γ| threshold and
# fine-tuned one epoch; also the accuracy right after removal (no fine-tuning) and the ONNX Runtime latency of each
# pruned model against its unpruned one (timed alternately in one process). The two runs of each step go side by side,
# one libtorch thread each.
# Usage: bench/scripts/slimming_vgg.sh OUT
# Environment: EPOCHS (training epochs, default 4), PENALTY (λ, default 1e-3), RATIO (channels removed, default 0.5),
# SEED (default 0), CLI (the prunesharp executable).
# Writes OUT/vgg-plain.{onnx,json}, OUT/vgg-slim.{onnx,json}, OUT/vgg-{plain,slim}-pruned.{onnx,json},
# OUT/vgg-{plain,slim}-pruned-noft.{onnx,json} and OUT/vgg-{plain,slim}-latency.txt.
set -euo pipefail
out=${1:?output folder}
cli=${CLI:-src/PruneSharp.Cli/bin/Release/net10.0/PruneSharp.Cli}
mkdir -p "$out"
common=(--model vgg-11 --data fashion-mnist --epochs ${EPOCHS:-4} --optimizer sgd --lr 0.05 --momentum 0.9 --weight-decay 1e-4
        --schedule cosine --normalize 0.2860/0.3530 --threads 1 --seed ${SEED:-0} --no-store --json)
$cli train "${common[@]}" -o "$out/vgg-plain.onnx" > "$out/vgg-plain.json" &
$cli train "${common[@]}" --regularize bn-scale --penalty ${PENALTY:-1e-3} -o "$out/vgg-slim.onnx" > "$out/vgg-slim.json" &
wait
prune=(--structured channel --method bn-scale --ratio ${RATIO:-0.5} --global --ignore classifier --data fashion-mnist
       --threads 1 --seed ${SEED:-0} --no-store --json)
for run in plain slim; do
  $cli prune "$out/vgg-$run.onnx" "${prune[@]}" --finetune-epochs 1 --optimizer sgd --lr 0.01 --momentum 0.9 --weight-decay 1e-4 \
    --lr-schedule cosine -o "$out/vgg-$run-pruned.onnx" > "$out/vgg-$run-pruned.json" &
done
wait
for run in plain slim; do
  $cli prune "$out/vgg-$run.onnx" "${prune[@]}" --finetune-epochs 0 -o "$out/vgg-$run-pruned-noft.onnx" > "$out/vgg-$run-pruned-noft.json" &
done
wait
# Latency one model pair at a time, so that the two timings do not share the cores.
for run in plain slim; do
  $cli bench "$out/vgg-$run-pruned.onnx" --baseline "$out/vgg-$run.onnx" --batch 1,64 --threads 1 --rounds 40 > "$out/vgg-$run-latency.txt"
done
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
for run in ("plain", "slim"):
    trained = json.load(open(f"{out}/vgg-{run}.json"))["test"]["Top1"]
    p = json.load(open(f"{out}/vgg-{run}-pruned.json"))
    kept = "-".join(str(g["after"]) for g in p["groups"])
    unrefined = json.load(open(f"{out}/vgg-{run}-pruned-noft.json"))["accuracy_after"]
    print(f"{run}: trained {100 * trained:.2f}%, pruned {100 * unrefined:.2f}%, pruned + fine-tuned {100 * p['accuracy_after']:.2f}%, "
          f"parameters {p['dense_params']:,} -> {p['params_after']:,}, MACs {p['dense_macs']:,} -> {p['macs_after']:,} "
          f"({p['dense_macs'] / p['macs_after']:.2f}x fewer), channels kept {kept}")
PY
for run in plain slim; do echo "latency, $run (pruned vs unpruned):"; cat "$out/vgg-$run-latency.txt"; done
