#!/usr/bin/env python3
"""Table of bench/scripts/dst_fashion.sh results: test top-1 per method and seed, mean and sample standard deviation.
Usage: python3 bench/scripts/dst_summary.py OUT"""
import json
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1])
rows = {}
for path in sorted(out.glob("*.json")):
    method, seed = path.stem.rsplit("-", 1)
    text = path.read_text()
    if not text.strip():
        continue
    run = json.loads(text)
    rows.setdefault(method, {})[int(seed)] = (100 * run["test"]["Top1"], run.get("sparse_training"))
seeds = sorted({s for runs in rows.values() for s in runs})
print("| run | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | std | zeros in the written model | topology updates |")
print("| --- |" + " --- |" * (len(seeds) + 4))
# Runs of models other than LeNet-5 carry the model's name as a prefix (resnet-20-rigl-0.json).
order = {"dense": 0, "set": 1, "rigl": 2}
keys = sorted(rows, key=lambda m: (m.rsplit("-", 1)[0] if m.rsplit("-", 1)[-1] in order and "-" in m else "", order.get(m.rsplit("-", 1)[-1], 3)))
for method in keys:
    runs = rows.get(method, {})
    if not runs:
        continue
    accuracies = [runs[s][0] for s in seeds if s in runs]
    mean = statistics.mean(accuracies)
    std = statistics.stdev(accuracies) if len(accuracies) > 1 else float("nan")
    sparse = [runs[s][1] for s in seeds if s in runs and runs[s][1]]
    zeros = ", ".join(f"{100 * r['sparsity']:.2f}%" for r in sparse) or "-"
    updates = ", ".join(str(r["topologyUpdates"]) for r in sparse) or "-"
    cells = " | ".join(f"{runs[s][0]:.2f}%" if s in runs else "-" for s in seeds)
    print(f"| {method} | {cells} | {mean:.2f}% | {std:.2f} | {zeros} | {updates} |")
