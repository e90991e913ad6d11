#!/usr/bin/python3
"""Export torchvision classification models (random weights) to ONNX for PruneSharp's import benchmark and checks.

Writes bench/models/<model>-opset<N>-<mode>.onnx, where mode is
  eval   : eval-mode export with constant folding (what deployment uses), and
  train  : training=TrainingMode.PRESERVE, do_constant_folding=False (BatchNorm and Dropout kept as trainable ops).
The input is named 'input' with a symbolic batch dimension; the output 'logits'.
Models whose export fails (an op the exporter lacks at that opset) are reported and skipped.

Usage: /usr/bin/python3 bench/export_torchvision.py [--models resnet18,vgg11] [--opsets 13,17] [--modes eval,train] [--out bench/models]
The structured-pruning equivalence sweep uses: --models equivalence --opsets 17
The old-opset sweep (upgraded to opset 11 on import) uses: --models old-opsets --opsets 7,8,9,10 --modes eval
"""
import argparse
import os
import sys

import torch
import torchvision

DEFAULT_MODELS = ["resnet18", "resnet50", "vgg11", "mobilenet_v2", "densenet121", "squeezenet1_0", "alexnet", "googlenet"]
# The families the structured-pruning equivalence sweep (bench `equivalence`) covers.
EQUIVALENCE_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "vgg11_bn",
                      "densenet121", "shufflenet_v2_x1_0", "squeezenet1_1", "efficientnet_b0", "regnet_x_400mf",
                      "mnasnet0_5", "googlenet", "convnext_tiny", "vit_b_16", "swin_t"]

# Small families for the old-opset sweep; torch 1.13 cannot write some of them at every opset 7-10 (ceil-mode pooling
# before 10, for one), and those are reported and skipped.
OLD_OPSET_MODELS = ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "mnasnet0_5", "shufflenet_v2_x0_5", "squeezenet1_1",
                    "regnet_x_400mf", "efficientnet_b0", "densenet121", "googlenet"]


def export(name, opset, training, folder):
    # GoogLeNet without its auxiliary classifiers (they only run in training); init_weights avoids scipy's slow init.
    extra = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    model = getattr(torchvision.models, name)(weights=None, **extra)
    model.train(training)
    x = torch.randn(1, 3, 224, 224)
    mode = "train" if training else "eval"
    path = os.path.join(folder, f"{name}-opset{opset}-{mode}.onnx")
    torch.onnx.export(
        model, x, path,
        opset_version=opset,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        training=torch.onnx.TrainingMode.PRESERVE if training else torch.onnx.TrainingMode.EVAL,
        do_constant_folding=not training,
    )
    print(f"{path}  {os.path.getsize(path) / 1e6:.1f} MB", flush=True)


def main():
    torch.set_num_threads(2)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS))
    parser.add_argument("--opsets", default="13,17")
    parser.add_argument("--modes", default="eval,train")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "models"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(0)
    models = {"equivalence": EQUIVALENCE_MODELS, "old-opsets": OLD_OPSET_MODELS}.get(args.models) or args.models.split(",")
    modes = [m == "train" for m in args.modes.split(",")]
    for name in models:
        for opset in (int(o) for o in args.opsets.split(",")):
            for training in modes:
                try:
                    export(name, opset, training, args.out)
                except Exception as e:  # one model's export failure should not stop the others
                    print(f"{name} opset {opset} {'train' if training else 'eval'}: export failed: {e}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
