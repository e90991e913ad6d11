"""PyTorch's side of the retraining-free layer-pruning comparison (run with Debian's /usr/bin/python3, torch 1.13).

  llm_layer_pytorch.py data DIR SHAPES TOKENS   write W (float32 [out, in], one file per shape) and X (float32
                                                [TOKENS, in], one file per input width) to DIR, seeded, as raw
                                                little-endian float32 (w_OUTxIN.f32, x_TOKENSxIN.f32)
  llm_layer_pytorch.py time DIR SHAPES TOKENS THREADS
                                                per shape: statistics accumulation (batches of 512 tokens), Wanda 50%,
                                                SparseGPT 50% and 2:4; each once untimed and once timed; one RESULT
                                                line of JSON per shape and method (seconds, relative reconstruction error)

A straightforward formulation of the papers in PyTorch, written for this comparison (Sun et al. 2023, Wanda;
Frantar & Alistarh 2023, SparseGPT: blocks of 128 columns, lazy batch updates, percdamp 0.01). SHAPES is
"1024x1024,2048x2048" (out x in). X has correlated features, a non-zero mean and two outlier features.
"""
import json, math, os, sys, time

import numpy as np
import torch


def shapes_of(text):
    return [tuple(int(v) for v in s.split("x")) for s in text.split(",")]


def make_data(folder, shapes, tokens):
    os.makedirs(folder, exist_ok=True)
    generator = torch.Generator().manual_seed(1234)
    for width in sorted({i for _, i in shapes}):
        mixing = torch.randn(width, width, generator=generator) / math.sqrt(width) + torch.eye(width)
        x = torch.randn(tokens, width, generator=generator) @ mixing + 0.5 * torch.randn(width, generator=generator)
        x[:, 3] *= 20
        x[:, width // 2] *= 12
        x.numpy().astype("<f4").tofile(os.path.join(folder, f"x_{tokens}x{width}.f32"))
    for out, width in shapes:
        w = torch.randn(out, width, generator=generator) / math.sqrt(width)
        w.numpy().astype("<f4").tofile(os.path.join(folder, f"w_{out}x{width}.f32"))


def load(folder, name, rows, columns):
    return torch.from_numpy(np.fromfile(os.path.join(folder, name), dtype="<f4").reshape(rows, columns).copy())


def statistics(x, batch=512):
    width = x.shape[1]
    h = torch.zeros(width, width)
    norms = torch.zeros(width)
    sums = torch.zeros(width)
    n = 0
    for start in range(0, x.shape[0], batch):
        rows = x[start:start + batch]
        b = rows.shape[0]
        sums += rows.sum(0)
        norms += rows.square().sum(0)
        h *= n / (n + b)
        scaled = rows * math.sqrt(2 / (n + b))
        h += scaled.t() @ scaled
        n += b
    return h, norms


def wanda(w, norms, sparsity):
    scores = w.abs() * norms.sqrt().unsqueeze(0)
    pruned = round(sparsity * w.shape[1])
    keep = torch.ones_like(w, dtype=torch.bool)
    keep.scatter_(1, torch.sort(scores, dim=1, stable=True)[1][:, :pruned], False)
    return w * keep


def sparsegpt(w, h, sparsity=0.5, prune_n=0, prune_m=0, blocksize=128, percdamp=0.01):
    w = w.clone()
    h = h.clone()
    columns = w.shape[1]
    dead = torch.diag(h) == 0
    h[dead, dead] = 1
    w[:, dead] = 0
    h[range(columns), range(columns)] += percdamp * torch.mean(torch.diag(h))
    hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    for i1 in range(0, columns, blocksize):
        i2 = min(i1 + blocksize, columns)
        count = i2 - i1
        w1 = w[:, i1:i2].clone()
        q1 = torch.zeros_like(w1)
        err1 = torch.zeros_like(w1)
        hinv1 = hinv[i1:i2, i1:i2]
        if prune_n == 0:
            scores = w1 ** 2 / torch.diag(hinv1).reshape(1, -1) ** 2
            threshold = torch.sort(scores.flatten())[0][int(scores.numel() * sparsity)]
            mask1 = scores <= threshold
        else:
            mask1 = torch.zeros_like(w1, dtype=torch.bool)
        for i in range(count):
            column = w1[:, i]
            d = hinv1[i, i]
            if prune_n != 0 and i % prune_m == 0:
                scores = w1[:, i:i + prune_m] ** 2 / torch.diag(hinv1)[i:i + prune_m].reshape(1, -1) ** 2
                mask1.scatter_(1, i + torch.topk(scores, prune_m - prune_n, dim=1, largest=False)[1], True)
            q = column.clone()
            q[mask1[:, i]] = 0
            q1[:, i] = q
            err = (column - q) / d
            w1[:, i:] -= err.unsqueeze(1).matmul(hinv1[i, i:].unsqueeze(0))
            err1[:, i] = err
        w[:, i1:i2] = q1
        w[:, i2:] -= err1.matmul(hinv[i1:i2, i2:])
    return w


def relative_error(w, pruned, h):
    d = w - pruned
    return float(((d @ h) * d).sum() / ((w @ h) * w).sum())


def timed(action):
    action()
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main():
    if sys.argv[1] == "data":
        make_data(sys.argv[2], shapes_of(sys.argv[3]), int(sys.argv[4]))
        return
    folder, shapes, tokens, threads = sys.argv[2], shapes_of(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    for out, width in shapes:
        w = load(folder, f"w_{out}x{width}.f32", out, width)
        x = load(folder, f"x_{tokens}x{width}.f32", tokens, width)
        seconds, (h, norms) = timed(lambda: statistics(x))
        report = lambda method, s, pruned: print("RESULT " + json.dumps({
            "tool": "pytorch", "shape": f"{out}x{width}", "method": method, "seconds": s,
            "error": None if pruned is None else relative_error(w, pruned, h)}), flush=True)
        report("statistics", seconds, None)
        report("wanda-0.5", *timed(lambda: wanda(w, norms, 0.5)))
        report("sparsegpt-0.5", *timed(lambda: sparsegpt(w, h, 0.5)))
        report("sparsegpt-2:4", *timed(lambda: sparsegpt(w, h, 0.5, 2, 4)))


if __name__ == "__main__":
    main()
