"""Markdown tables from the JSON files of bench/scripts/at_init_fashion.sh: python3 bench/scripts/at_init_summary.py OUT."""
import glob
import json
import os
import re
import statistics
import sys

from chain_paths import paths

out = sys.argv[1]


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


methods = ["synflow", "snip", "grasp", "magnitude", "random"]
print("### Layer collapse at 99.9%\n")
print("| model | method | kept weights | path survives | emptied layers | smallest layer density | top-1 after 2 epochs |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for model, prefix in (("LeNet-5", "collapse-"), ("LeNet-300-100", "collapse-mlp-"), ("Conv-6", "collapse-conv6-"),
                      ("VGG-11", "collapse-vgg11-")):
    for m in methods:
        r = load(os.path.join(out, f"{prefix}{m}.json"))
        if r is None:
            continue
        a = r["at_init"]
        emptied = [l["name"] for l in a["layers"] if l["kept"] == 0]
        smallest = min(l["density"] for l in a["layers"])
        kept = sum(l["kept"] for l in a["layers"])
        top1 = f"{100 * r['test']['Top1']:.2f}%" if r["epochs"] > 0 else "not trained (no path)"
        print(f"| {model} | {m} | {kept} | {'yes' if a['path_survives'] else 'no'} | {', '.join(emptied) or '-'} | {smallest:.4f} | {top1} |")

conv6 = [(m, load(os.path.join(out, f"collapse-conv6-{m}.json"))) for m in methods]
conv6 = [(m, r) for m, r in conv6 if r is not None]
if conv6:
    names = [l["name"].removesuffix(".weight") for l in conv6[0][1]["at_init"]["layers"]]
    print("\n### Conv-6 at 99.9%: kept weights per layer, effective (on an input-to-output path) after the slash\n")
    print("| method | " + " | ".join(names) + " | kept | effective | path (channels) |")
    print("| --- |" + " --- |" * (len(names) + 3))
    for m, r in conv6:
        model = os.path.join(out, f"collapse-conv6-{m}.onnx")
        p = paths(model) if os.path.exists(model) else None
        cells = [f"{l['kept']}" + (f" / {e['effective']}" if p else "") for l, e in zip(r["at_init"]["layers"], p["layers"] if p else r["at_init"]["layers"])]
        kept = sum(l["kept"] for l in r["at_init"]["layers"])
        path = "" if p is None else "yes" if p["path_survives"] else "no"
        print(f"| {m} | " + " | ".join(cells) + f" | {kept} | {p['effective'] if p else ''} | {path} |")


def cell(runs):
    """Mean top-1 over seeds, with the spread (sample standard deviation) and the seed count; marks collapse."""
    if not runs:
        return ""
    top1 = [100 * r["test"]["Top1"] for r in runs.values()]
    text = f"{statistics.mean(top1):.2f}" + (f" ± {statistics.stdev(top1):.2f}" if len(top1) > 1 else "") + f" ({len(top1)})"
    emptied = sorted({l["name"].removesuffix(".weight") for r in runs.values() if r.get("at_init")
                      for l in r["at_init"]["layers"] if l["kept"] == 0})
    if any(r["epochs"] == 0 for r in runs.values()):
        text += " untrained"
    return text + (f" [{', '.join(emptied)}]" if emptied else "")


# Model grids: grid-MODEL-METHOD-SPARSITY[-sSEED].json (a seed-0 file may have no suffix), grid-MODEL-dense[-sSEED].json.
for model, tag in (("Conv-6", "conv6"), ("VGG-11", "vgg11")):
    grid_runs = {}
    for path in glob.glob(os.path.join(out, f"grid-{tag}-*.json")):
        match = re.fullmatch(rf"grid-{tag}-(dense|[a-z]+-[0-9.]+)(?:-s([0-9]+))?", os.path.basename(path)[:-5])
        r = load(path)
        if match and r is not None:
            grid_runs.setdefault(match.group(1), {})[int(match.group(2) or 0)] = r
    levels = sorted({k.rsplit("-", 1)[1] for k in grid_runs if k != "dense"}, key=float)
    if not levels:
        continue
    print(f"\n### Accuracy after pruning at initialisation ({model}, top-1 %: mean ± sd (seeds); emptied layers in brackets)\n")
    print("| method | " + " | ".join(f"{100 * float(s):g}%" for s in levels) + " |")
    print("| --- |" + " --- |" * len(levels))
    if "dense" in grid_runs:
        print("| dense | " + " | ".join(cell(grid_runs["dense"]) for _ in levels) + " |")
    for m in methods:
        cells = [cell(grid_runs.get(f"{m}-{s}", {})) for s in levels]
        if any(cells):
            print(f"| {m} | " + " | ".join(cells) + " |")

sparsities = sorted({os.path.basename(p)[:-5].rsplit("-", 1)[1] for p in glob.glob(os.path.join(out, "grid-*-*.json"))
                     if not os.path.basename(p).startswith(("grid-conv6-", "grid-vgg11-"))}, key=float)
if sparsities:
    print("\n### Accuracy after pruning at initialisation (LeNet-5, top-1 %)\n")
    print("| method | " + " | ".join(f"{100 * float(s):g}%" for s in sparsities) + " |")
    print("| --- |" + " --- |" * len(sparsities))
    dense = load(os.path.join(out, "grid-dense.json"))
    if dense:
        print(f"| dense | " + " | ".join(f"{100 * dense['test']['Top1']:.2f}" for _ in sparsities) + " |")
    for m in methods:
        cells = []
        for s in sparsities:
            r = load(os.path.join(out, f"grid-{m}-{s}.json"))
            cells.append("" if r is None else f"{100 * r['test']['Top1']:.2f}")
        print(f"| {m} | " + " | ".join(cells) + " |")

# Criteria: lenet300[-sSEED].json (the dense model) and criteria-METHOD[-sSEED].json (seed 0 may have no suffix).
criteria = ["magnitude", "random", "snip", "taylor", "obd", "movement", "apoz", "entropy", "loss-change"]
criteria_runs = {}
for path in glob.glob(os.path.join(out, "lenet300*.json")) + glob.glob(os.path.join(out, "criteria-*.json")):
    match = re.fullmatch(r"(lenet300|criteria-[a-z-]+?)(?:-s([0-9]+))?", os.path.basename(path)[:-5])
    r = load(path)
    if match and r is not None:
        r["onnx"] = path[:-5] + ".onnx"
        criteria_runs.setdefault(match.group(1).removeprefix("criteria-"), {})[int(match.group(2) or 0)] = r


def span(values):
    """The range of integer counts over the seeds: one value, or min–max."""
    return f"{min(values):,}" if min(values) == max(values) else f"{min(values):,}–{max(values):,}"


def spread(values):
    """Mean, with the sample standard deviation and the count where there is more than one value."""
    return f"{statistics.mean(values):.2f}" + (f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else "") + f" ({len(values)})"


if criteria_runs:
    seeds = sorted({s for runs in criteria_runs.values() for s in runs})
    print("\n### Criteria at 90% of fc1 and fc2, LeNet-300-100, one-shot + 1 fine-tune epoch "
          f"(top-1 %: mean ± sd (runs); seeds {', '.join(map(str, seeds))})\n")
    if "lenet300" in criteria_runs:
        print(f"Dense model: {spread([100 * r['test']['Top1'] for r in criteria_runs['lenet300'].values()])}.\n")
    print("| criterion | before (dense) | after pruning + fine-tune | minus magnitude, same seed | sparsity of fc1, fc2 "
          "| live neurons of fc1, fc2 | effective weights |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    magnitude = criteria_runs.get("magnitude", {})
    for m in criteria:
        runs = criteria_runs.get(m)
        if not runs:
            continue
        before = spread([100 * r["accuracy_before"] for r in runs.values()])
        after = spread([100 * r["accuracy_after"] for r in runs.values()])
        paired = [100 * (r["accuracy_after"] - magnitude[s]["accuracy_after"]) for s, r in runs.items() if s in magnitude]
        minus = "" if m == "magnitude" or not paired else spread(paired)
        layers = sorted({", ".join(f"{100 * l['sparsity']:.1f}%" for l in r["layers"]) for r in runs.values()})
        # Neurons reached from the input, and kept weights on an input-to-output path, read from the written models.
        chains = [paths(r["onnx"]) for r in runs.values() if os.path.exists(r["onnx"])]
        live = ", ".join(span([c["layers"][k]["reached_outputs"] for c in chains]) for k in range(2)) if chains else ""
        effective = span([c["effective"] for c in chains]) if chains else ""
        print(f"| {m} | {before} | {after} | {minus} | {'; '.join(layers)} | {live} | {effective} |")
