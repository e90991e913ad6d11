#!/usr/bin/env python3
"""Exports an untrained small CNN with BatchNorm (the architecture of bench/fashion_cnn.py) to ONNX with BatchNorm
kept, as the starting point of the network-slimming benchmark (trained by prunesharp train, not here).

usage: /usr/bin/python3 bn_cnn_init.py OUT.onnx
"""
import sys

import torch
from torch import nn

torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
model.eval()
torch.onnx.export(model, torch.zeros(1, 1, 28, 28), sys.argv[1], input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13,
                  training=torch.onnx.TrainingMode.PRESERVE)
print(f"exported {sys.argv[1]}")
