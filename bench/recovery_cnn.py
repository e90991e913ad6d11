"""The CNN of the distillation result (issue 14): a small VGG-style network with BatchNorm (conv 16-pool-32-32-pool-64-64,
global average pooling, one linear layer; about 3 M MACs per image), trained in PyTorch on Fashion-MNIST pixels in
[0, 1] (no normalisation: the first BatchNorm scales them), exported with BatchNorm kept and a dynamic batch axis at
opset OPSET (default 11). OPSET 7 or 8 gives the file an older exporter would have written (below 9 torch 1.13 also lists
the weights among the graph inputs); PruneSharp upgrades such a file to opset 11 on import.

Run with Debian's interpreter: [OPSET=8] /usr/bin/python3 bench/recovery_cnn.py OUT.onnx [EPOCHS] [DATA]  (about 50 s of
CPU per epoch; TORCH_THREADS=1 runs better on a loaded machine).
Prints the PyTorch test accuracy (the number `prunesharp eval OUT.onnx --data fashion-mnist` must reproduce).
"""
import os, sys, time
import torch
from torch import nn

from fashion_cnn import load  # the Fashion-MNIST IDX reader of the issue-19 fixture script, beside this one

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
torch.manual_seed(0)


def block(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


def main():
    out = sys.argv[1]
    opset = int(os.environ.get("OPSET", "11"))
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    data = sys.argv[3] if len(sys.argv) > 3 else "/usr/share/datasets/fashion-mnist"
    train_x, train_y = load(data, "train")
    test_x, test_y = load(data, "t10k")
    model = nn.Sequential(*block(1, 16), nn.MaxPool2d(2), *block(16, 32), *block(32, 32), nn.MaxPool2d(2),
                          *block(32, 64), *block(64, 64), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    steps = epochs * ((len(train_x) + 127) // 128)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=steps)
    start = time.time()
    model.train()
    for epoch in range(epochs):
        order = torch.randperm(len(train_x))
        for i in range(0, len(order), 128):
            batch = order[i:i + 128]
            loss = nn.functional.cross_entropy(model(train_x[batch]), train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"epoch {epoch + 1}: loss {loss.item():.4f}, {time.time() - start:.0f} s", flush=True)
    model.eval()
    with torch.no_grad():
        correct = sum((model(test_x[i:i + 1000]).argmax(1) == test_y[i:i + 1000]).sum().item() for i in range(0, len(test_x), 1000))
    print(f"pytorch test accuracy: {100 * correct / len(test_x):.2f}%")
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), out, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=opset,
                      training=torch.onnx.TrainingMode.PRESERVE)
    print(f"exported {out} (opset {opset})")


if __name__ == "__main__":
    main()
