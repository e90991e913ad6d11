#!/usr/bin/python3
"""Training throughput of PyTorch on the LeNet-300-100 MLP (784-300-100-10), batch 128, SGD with momentum.

The peer measurement for `dotnet run -c Release --project bench/PruneSharp.Bench -- train-throughput`, which runs
this script and prints the ratio. Same model, batch, optimizer, thread count (2) and timing protocol: synthetic
inputs already in memory, a warm-up block, then the median over rounds of STEPS optimizer steps each.
Prints one JSON line.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    inputs = torch.randn(args.steps, args.batch, 1, 28, 28)
    targets = torch.randint(0, 10, (args.steps, args.batch))
    model.train()

    def block():
        for s in range(args.steps):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(inputs[s]), targets[s])
            loss.backward()
            optimizer.step()

    block()  # warm-up
    seconds = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        block()
        seconds.append(time.perf_counter() - start)
    median = sorted(seconds)[len(seconds) // 2]
    print(json.dumps({
        "samples_per_second": args.steps * args.batch / median,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "steps": args.steps,
        "rounds": args.rounds,
    }))


if __name__ == "__main__":
    main()
