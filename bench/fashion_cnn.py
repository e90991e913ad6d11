"""A user's own model, as issue 19 describes it: a small CNN with BatchNorm trained in PyTorch on Fashion-MNIST with
inputs normalised by mean 0.2860, std 0.3530, exported to ONNX three ways:

  fashion_cnn_bn.onnx       BatchNorm kept (TrainingMode.PRESERVE), normalisation left to the caller
  fashion_cnn_folded.onnx   BatchNorm folded into the convolutions (the exporter's eval mode), normalisation left to the caller
  fashion_cnn_wrapped.onnx  BatchNorm kept, the normalisation inside the graph as Sub/Div by constant initializers

Prints the PyTorch test accuracy (the number `prunesharp eval --normalize 0.2860/0.3530` must reproduce).
Run with Debian's interpreter: /usr/bin/python3 bench/fashion_cnn.py OUTDIR [DATA]  (1 epoch, about 1-2 minutes on 2 cores).
"""
import gzip, os, struct, sys, time
import numpy as np
import torch
from torch import nn

torch.set_num_threads(2)
torch.manual_seed(0)
MEAN, STD = 0.2860, 0.3530


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xFF
    shape = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def load(folder, prefix):
    images = torch.from_numpy(idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz")).copy()).float().div_(255).unsqueeze(1)
    labels = torch.from_numpy(idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64))
    return images, labels


class Normalize(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([MEAN]).view(1, 1, 1, 1))
        self.register_buffer("std", torch.tensor([STD]).view(1, 1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def accuracy(model, images, labels, normalise):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), 1000):
            x = images[i:i + 1000]
            if normalise:
                x = (x - MEAN) / STD
            correct += (model(x).argmax(1) == labels[i:i + 1000]).sum().item()
    return correct / len(images)


def main():
    out = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    os.makedirs(out, exist_ok=True)
    train_x, train_y = load(data, "train")
    test_x, test_y = load(data, "t10k")
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    start = time.time()
    model.train()
    order = torch.randperm(len(train_x))
    for i in range(0, len(order), 128):
        batch = order[i:i + 128]
        loss = nn.functional.cross_entropy(model((train_x[batch] - MEAN) / STD), train_y[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print(f"trained 1 epoch in {time.time() - start:.0f} s")
    print(f"pytorch test accuracy (normalised inputs): {100 * accuracy(model, test_x, test_y, True):.2f}%")
    print(f"pytorch test accuracy (raw [0, 1] inputs): {100 * accuracy(model, test_x, test_y, False):.2f}%")
    model.eval()
    example = torch.zeros(1, 1, 28, 28)
    axes = {"input": {0: "batch"}, "logits": {0: "batch"}}
    common = dict(input_names=["input"], output_names=["logits"], dynamic_axes=axes, opset_version=13)
    torch.onnx.export(model, example, os.path.join(out, "fashion_cnn_bn.onnx"), training=torch.onnx.TrainingMode.PRESERVE, **common)
    torch.onnx.export(model, example, os.path.join(out, "fashion_cnn_folded.onnx"), training=torch.onnx.TrainingMode.EVAL, **common)
    wrapped = nn.Sequential(Normalize(), model).eval()
    print(f"pytorch test accuracy (wrapped, raw inputs): {100 * accuracy(wrapped, test_x, test_y, False):.2f}%")
    torch.onnx.export(wrapped, example, os.path.join(out, "fashion_cnn_wrapped.onnx"), training=torch.onnx.TrainingMode.PRESERVE, **common)
    print(f"exported to {out}")


if __name__ == "__main__":
    main()
