"""Torch-Pruning's side of the structured-pruning comparison (run with Debian's /usr/bin/python3).

For each torchvision model (random weights): export the dense model to ONNX in eval mode with BatchNorm kept
(training=PRESERVE, do_constant_folding=False), prune a copy with Torch-Pruning (L2 magnitude, ratio 0.5,
round_to 8, classifier ignored), and export the pruned model. Prints one RESULT line of JSON per model.

Torch-Pruning is not a dependency of PruneSharp: point TORCH_PRUNING_SRC at a checkout of its source (1.6.1).
"""
import json, os, sys, time

sys.path.insert(0, os.environ.get("TORCH_PRUNING_SRC", "/tmp/tp"))
import torch
import torchvision
import torch_pruning as tp

torch.set_num_threads(2)
out = sys.argv[1] if len(sys.argv) > 1 else "bench/out"
names = sys.argv[2:] or ["resnet18", "mobilenet_v2"]
os.makedirs(out, exist_ok=True)


def export(model, path):
    model.eval()
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


for name in names:
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    export(model, f"{out}/{name}-dense.onnx")
    example = torch.randn(1, 3, 224, 224)
    dense_macs, dense_params = tp.utils.count_ops_and_params(model, example)
    classifier = model.fc if hasattr(model, "fc") else model.classifier[-1]
    start = time.perf_counter()
    pruner = tp.pruner.MagnitudePruner(model, example, importance=tp.importance.MagnitudeImportance(p=2),
                                       pruning_ratio=0.5, round_to=8, ignored_layers=[classifier])
    graph_seconds = time.perf_counter() - start
    pruner.step()
    seconds = time.perf_counter() - start
    macs, params = tp.utils.count_ops_and_params(model, example)
    export(model, f"{out}/{name}-tp.onnx")
    print("RESULT " + json.dumps({"tool": "torch-pruning", "model": name, "params": params, "dense_params": dense_params,
                                  "macs": macs, "dense_macs": dense_macs, "seconds": seconds, "graph_seconds": graph_seconds}))
