"""Torch-Pruning's side of the structured-pruning comparison (run with Debian's /usr/bin/python3).

  torch_pruning_side.py export OUT MODEL...   export each torchvision model (random weights) to OUT/MODEL-dense.onnx in
                                              eval mode with BatchNorm kept (training=PRESERVE, do_constant_folding=False),
                                              prune a copy with Torch-Pruning and export it to OUT/MODEL-tp.onnx;
                                              one RESULT line of JSON per model (parameters and MACs)
  torch_pruning_side.py time MODEL            time one pruning run in this (fresh) process; one RESULT line

Settings: L2 MagnitudeImportance, ratio 0.5, round_to 8, classifier ignored. Before the timed part the model runs once
(Torch-Pruning's MAC counter), as PruneSharp's side counts MACs before its timed part.

Torch-Pruning is not a dependency of PruneSharp: point TORCH_PRUNING_SRC at a checkout of its source (1.6.1).
"""
import json, os, sys, time

sys.path.insert(0, os.environ.get("TORCH_PRUNING_SRC", "/tmp/tp"))
import torch
import torchvision
import torch_pruning as tp

torch.set_num_threads(2)


def export(model, path):
    model.eval()
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, opset_version=13, input_names=["input"],
                      output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


def prune(name):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
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
    result = {"tool": "torch-pruning", "model": name, "params": params, "dense_params": dense_params, "macs": macs,
              "dense_macs": dense_macs, "seconds": seconds, "graph_seconds": graph_seconds}
    return model, result


mode = sys.argv[1]
if mode == "export":
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name in sys.argv[3:]:
        torch.manual_seed(0)
        export(getattr(torchvision.models, name)(weights=None), f"{out}/{name}-dense.onnx")
        model, result = prune(name)
        export(model, f"{out}/{name}-tp.onnx")
        print("RESULT " + json.dumps(result))
elif mode == "time":
    print("RESULT " + json.dumps(prune(sys.argv[2])[1]))
else:
    sys.exit(f"unknown mode '{mode}': use export or time")
