#!/usr/bin/env python3
"""Input-to-output paths through the zeros of a pruned chain network, read from its ONNX file (no onnx package needed).

usage: chain_paths.py MODEL.onnx [MODEL.onnx ...]

`prunesharp train --at-init` reports a layer as alive when it keeps a weight; a path can still be cut where a layer's
live output channels do not meet the next layer's live input channels. This script follows the channels: a channel
is reached from the input when a kept weight joins it to a reached channel of the layer before, and reaches the
output when a kept weight joins it to a channel that does. A weight is effective when it joins a reached input channel
to an output channel that reaches the output (Vysogorets & Kempe 2023, "effective sparsity"). Spatial positions are
not followed: after Flatten every feature of a reached channel counts as reached (true for Conv-6 on 28x28, whose
padded 3x3 taps and floor pooling leave every position of the last 3x3 map within the image). A Flatten before the
first layer (an MLP such as LeNet-300-100) makes every input feature a channel of its own.
Only sequential graphs of Conv, Gemm (weight [out, in] with transB=1, or [in, out]), Relu, MaxPool, AveragePool,
Flatten and Identity are read; any other op is refused by name. Prints one JSON object per model.
"""
import json
import os
import struct
import sys
from array import array

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from onnx_initializers import fields, varint  # noqa: E402  (the protobuf walk, shared)

PASS_THROUGH = {"Relu", "MaxPool", "AveragePool", "Identity"}


def packed(value, wire):
    if wire == 0:
        return [value]
    out, i = [], 0
    while i < len(value):
        v, i = varint(value, i)
        out.append(v)
    return out


def read(path):
    """(nodes, initializers): nodes as (op, inputs, outputs, attributes), initializers as name -> (dims, floats)."""
    with open(path, "rb") as f:
        model = f.read()
    graphs = [v for n, _, v in fields(model) if n == 7]
    if not graphs:
        raise SystemExit(f"{path}: no graph (not an ONNX model?)")
    nodes, inits = [], {}
    for n, _, v in fields(graphs[0]):
        if n == 1:
            inputs, outputs, op, attrs = [], [], None, {}
            for m, w, x in fields(v):
                if m == 1:
                    inputs.append(x.decode())
                elif m == 2:
                    outputs.append(x.decode())
                elif m == 4:
                    op = x.decode()
                elif m == 5:
                    a = dict((k, (kw, kv)) for k, kw, kv in fields(x))
                    if 1 in a and 3 in a:
                        attrs[a[1][1].decode()] = a[3][1]
            nodes.append((op, inputs, outputs, attrs))
        elif n == 5:
            dims, name, dtype, raw, floats = [], None, None, None, None
            for m, w, x in fields(v):
                if m == 1:
                    dims += packed(x, w)
                elif m == 2:
                    dtype = x
                elif m == 8:
                    name = x.decode()
                elif m == 9:
                    raw = x
                elif m in (13, 14) and x:
                    raise SystemExit(f"{path}: initializers in external data files are not read by this script")
                elif m == 4:
                    floats = (floats or array("f")) + (array("f", x) if w == 2 else array("f", struct.unpack("<f", x)))
            if dtype != 1:
                continue
            if raw is not None:
                floats = array("f")
                floats.frombytes(raw)
                if sys.byteorder != "little":
                    floats.byteswap()
            inits[name] = (dims, floats or array("f"))
    return nodes, inits


def layers(path):
    """The chain's layers in order: (name, out, in, nonzero (o, i) pairs, kept weights, weights, flatten factor)."""
    nodes, inits = read(path)
    chain, factor = [], 1
    for op, inputs, outputs, attrs in nodes:
        if op in PASS_THROUGH:
            continue
        if op == "Flatten":
            factor = None  # fixed by the next layer: its inputs per channel of the layer before
            continue
        if op not in ("Conv", "Gemm"):
            raise SystemExit(f"{path}: op {op} (node output {outputs[0] if outputs else '?'}) is not supported by this chain reader")
        name = inputs[1]
        if name not in inits:
            raise SystemExit(f"{path}: the weight '{name}' of {op} is not a float initializer")
        dims, w = inits[name]
        per = 1
        if op == "Gemm" and not attrs.get("transB", 0):
            o_count, i_count = dims[1], dims[0]
            at = lambda o, i: w[i * o_count + o]
        else:
            o_count, i_count = dims[0], dims[1]
            for d in dims[2:]:
                per *= d
            at = None
        pairs = {}  # (output, input) -> kept weights joining them
        if at is None:
            block = i_count * per
            for o in range(o_count):
                for i in range(i_count):
                    nz = sum(1 for x in w[o * block + i * per:o * block + (i + 1) * per] if x != 0)
                    if nz:
                        pairs[(o, i)] = nz
        else:
            for o in range(o_count):
                for i in range(i_count):
                    if at(o, i) != 0:
                        pairs[(o, i)] = 1
        kept = sum(pairs.values())
        chain.append([name, o_count, i_count, pairs, kept, len(w), factor])
        factor = 1
    for k, layer in enumerate(chain):
        if layer[6] is None and k == 0:
            layer[6] = 1  # Flatten before the first layer (an MLP): every input feature is its own channel, all reached
        elif layer[6] is None:
            channels = chain[k - 1][1]
            if layer[2] % channels:
                raise SystemExit(f"{path}: '{layer[0]}' reads {layer[2]} features, not a multiple of the {channels} channels before Flatten")
            layer[6] = layer[2] // channels
    return chain


def paths(path):
    chain = layers(path)
    if not chain:
        raise SystemExit(f"{path}: no Conv or Gemm layer")
    # Forward: channels reached from the input (every input channel of the first layer is an input).
    reached = [set(range(chain[0][2]))]
    for name, o_count, i_count, pairs, kept, total, factor in chain:
        before = {c * factor + k for c in reached[-1] for k in range(factor)} if factor > 1 else reached[-1]
        reached.append({o for o, i in pairs if i in before})
    # Backward: channels that reach the output (every output of the last layer).
    reaching = [set(range(chain[-1][1]))]
    for name, o_count, i_count, pairs, kept, total, factor in reversed(chain):
        inputs = {i for o, i in pairs if o in reaching[0]}
        reaching.insert(0, {i // factor for i in inputs} if factor > 1 else inputs)
    report = []
    for k, (name, o_count, i_count, pairs, kept, total, factor) in enumerate(chain):
        before = {c * factor + j for c in reached[k] for j in range(factor)} if factor > 1 else reached[k]
        after = reaching[k + 1]
        effective = sum(n for (o, i), n in pairs.items() if i in before and o in after)
        report.append({"name": name, "weights": total, "kept": kept, "effective": effective,
                       "reached_outputs": len(reached[k + 1]), "outputs": o_count})
    return {"model": path, "path_survives": len(reached[-1]) > 0,
            "kept": sum(l["kept"] for l in report), "effective": sum(l["effective"] for l in report), "layers": report}


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    for p in sys.argv[1:]:
        print(json.dumps(paths(p)))
