"""A reference formulation of retraining-free LLM pruning, written from the papers, for checking PruneSharp's numbers.

- Magnitude: |W| per whole matrix (unstructured) or per group of M consecutive inputs of a row (N:M).
- Wanda (Sun et al. 2024): score |W_ij| * ||X_j||_2 compared within each output row (or each group of M inputs).
- SparseGPT (Frantar & Alistarh 2023): H = 2 X X^T / n, 1% dampening, upper Cholesky factor of H^-1, 128-column
  blocks with lazy batch updates, the mask chosen per block (unstructured) or per M columns (N:M) by w^2 / [H^-1]_jj^2.

Layers are pruned in order; layer i is calibrated on the outputs of the already pruned layers 0..i-1 (all its linear
layers from the same forward pass), as both papers do. Perplexity: the held-out ids cut into non-overlapping windows of
L tokens (the remainder dropped), each window scoring its L-1 next-token predictions, exp of the mean loss.
"""
import math
import time

import torch

import torch_gpt2

try:
    import transformers
    from transformers.pytorch_utils import Conv1D as HfConv1D
except ImportError:  # a machine without transformers (Debian's python3-torch only): GPT-2 from torch_gpt2.py
    transformers, HfConv1D = None, torch_gpt2.Conv1D
Conv1D = (HfConv1D, torch_gpt2.Conv1D)


def decoder_layers(model):
    for path in ("transformer.h", "model.layers", "model.decoder.layers"):
        obj = model
        try:
            for part in path.split("."):
                obj = getattr(obj, part)
            return list(obj)
        except AttributeError:
            continue
    raise ValueError("unknown decoder layout")


def linears(layer):
    return {n: m for n, m in layer.named_modules() if isinstance(m, (torch.nn.Linear,) + Conv1D)}


def weight_out_in(module):
    return module.weight.data.t() if isinstance(module, Conv1D) else module.weight.data


def set_weight(module, w):
    module.weight.data.copy_(w.t() if isinstance(module, Conv1D) else w)


def parse_sparsity(s):
    if ":" in s:
        n, m = (int(x) for x in s.split(":"))
        return 1 - n / m, n, m
    return float(s), 0, 0


class Stats:
    def __init__(self, columns, device):
        self.h = torch.zeros(columns, columns, device=device)
        self.sq = torch.zeros(columns, device=device)
        self.n = 0

    def add(self, x):
        x = x.reshape(-1, x.shape[-1]).float()
        t = x.shape[0]
        self.h *= self.n / (self.n + t)
        self.sq += (x * x).sum(0)
        self.n += t
        x = math.sqrt(2 / self.n) * x
        self.h += x.t() @ x


def keep_n_of_m(score, n, m):
    """Mask (True = pruned) keeping the n largest scores of every m consecutive columns of each row."""
    rows, cols = score.shape
    groups = score.reshape(rows, cols // m, m)
    idx = torch.topk(groups, m - n, dim=2, largest=False).indices
    mask = torch.zeros_like(groups, dtype=torch.bool).scatter_(2, idx, True)
    return mask.reshape(rows, cols)


def magnitude(w, sparsity, n, m):
    score = w.abs()
    if m:
        return keep_n_of_m(score, n, m)
    k = int(round(sparsity * score.numel()))
    mask = torch.zeros_like(score, dtype=torch.bool)
    mask.view(-1)[torch.argsort(score.flatten())[:k]] = True
    return mask


def wanda(w, stats, sparsity, n, m):
    score = w.abs() * stats.sq.sqrt().unsqueeze(0)
    if m:
        return keep_n_of_m(score, n, m)
    k = int(round(sparsity * w.shape[1]))
    idx = torch.argsort(score, dim=1)[:, :k]
    return torch.zeros_like(score, dtype=torch.bool).scatter_(1, idx, True)


def sparsegpt(w, stats, sparsity, n, m, blocksize=128, percdamp=0.01):
    w = w.clone().float()
    rows, cols = w.shape
    h = stats.h.clone()
    dead = torch.diag(h) == 0
    h[dead, dead] = 1
    w[:, dead] = 0
    h += percdamp * torch.mean(torch.diag(h)) * torch.eye(cols, device=w.device)
    hinv = torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(h)), upper=True)
    mask = torch.zeros_like(w, dtype=torch.bool)
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        w1 = w[:, i1:i2].clone()
        q1 = torch.zeros_like(w1)
        err1 = torch.zeros_like(w1)
        hinv1 = hinv[i1:i2, i1:i2]
        d1 = torch.diag(hinv1)
        if m:
            mask1 = torch.zeros_like(w1, dtype=torch.bool)
        else:
            score = w1 ** 2 / d1.unsqueeze(0) ** 2
            k = int(score.numel() * sparsity)
            mask1 = torch.zeros_like(w1, dtype=torch.bool)
            mask1.view(-1)[torch.argsort(score.flatten())[:k]] = True
        for i in range(i2 - i1):
            if m and i % m == 0:
                score = w1[:, i:i + m] ** 2 / d1[i:i + m].unsqueeze(0) ** 2
                mask1[:, i:i + m] = keep_n_of_m(score, n, m)
            col = w1[:, i]
            q = col.clone()
            q[mask1[:, i]] = 0
            q1[:, i] = q
            e = (col - q) / d1[i]
            w1[:, i:] -= e.unsqueeze(1) @ hinv1[i, i:].unsqueeze(0)
            err1[:, i] = e
        w[:, i1:i2] = q1
        mask[:, i1:i2] = mask1
        w[:, i2:] -= err1 @ hinv[i1:i2, i2:]
    return w, mask


def reconstruction_error(w, w_hat, stats):
    d = w - w_hat
    return (torch.trace(d @ stats.h @ d.t()) / torch.trace(w @ stats.h @ w.t())).item()


class StopForward(Exception):
    pass


@torch.no_grad()
def prune_model(model, calibration, method, sparsity_text):
    sparsity, n, m = parse_sparsity(sparsity_text)
    layers = decoder_layers(model)
    errors = []
    for i, layer in enumerate(layers):
        lin = linears(layer)
        stats = {name: Stats(weight_out_in(mod).shape[1], calibration.device) for name, mod in lin.items()}
        hooks = [mod.register_forward_hook(lambda mod, inp, out, s=stats[name]: s.add(inp[0])) for name, mod in lin.items()]

        def stop(mod, inp, out):
            raise StopForward()

        hooks.append(layer.register_forward_hook(stop))
        for start in range(0, calibration.shape[0], 16):
            try:
                model(input_ids=calibration[start:start + 16])
            except StopForward:
                pass
        for h in hooks:
            h.remove()
        for name, mod in lin.items():
            w = weight_out_in(mod).float().contiguous()
            if method == "magnitude":
                mask = magnitude(w, sparsity, n, m)
                w_hat = w.masked_fill(mask, 0)
            elif method == "wanda":
                mask = wanda(w, stats[name], sparsity, n, m)
                w_hat = w.masked_fill(mask, 0)
            else:
                w_hat, mask = sparsegpt(w, stats[name], sparsity, n, m)
            errors.append(reconstruction_error(w, w_hat, stats[name]))
            set_weight(mod, w_hat)
    return errors


@torch.no_grad()
def perplexity(model, ids, seqlen):
    windows = ids.numel() // seqlen
    x = ids[: windows * seqlen].reshape(windows, seqlen)
    total = 0.0
    for start in range(0, windows, 32):
        batch = x[start:start + 32].to(next(model.parameters()).device)
        logits = model(input_ids=batch).logits.float()
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1),
                                                 reduction="sum")
        total += loss.item()
    return math.exp(total / (windows * (seqlen - 1))), windows


def calibration_windows(train_ids, nsamples, seqlen, seed):
    gen = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, train_ids.numel() - seqlen, (nsamples,), generator=gen)
    return torch.stack([train_ids[s:s + seqlen] for s in starts])


def evaluate_methods(folder, train_ids, heldout_ids, calib, seqlen, device, log):
    def load():
        if transformers is None:
            return torch_gpt2.load(folder).to(device)
        return transformers.AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32,
                                                                 attn_implementation="eager").to(device).eval()

    cal = calibration_windows(train_ids, calib["nsamples"], calib["seqlen"], calib["seed"]).to(device)
    rows = []
    ppl, windows = perplexity(load(), heldout_ids, seqlen)
    rows.append({"method": "dense", "sparsity": "0", "perplexity": ppl, "windows": windows})
    log(f"  dense perplexity {ppl:.3f} over {windows} windows")
    for sparsity in ("0.5", "2:4", "4:8"):
        for method in ("magnitude", "wanda", "sparsegpt"):
            model = load()
            start = time.time()
            errors = prune_model(model, cal, method, sparsity)
            seconds = time.time() - start
            ppl, _ = perplexity(model, heldout_ids, seqlen)
            rows.append({"method": method, "sparsity": sparsity, "perplexity": ppl, "seconds": seconds,
                         "mean_reconstruction_error": sum(errors) / len(errors)})
            log(f"  {method} {sparsity}: perplexity {ppl:.3f}, error {sum(errors) / len(errors):.4f}, {seconds:.1f} s")
    return rows


def main():
    """python3 bench/llm/pruning_reference.py CHECKPOINT TRAIN_TEXT HELDOUT_TEXT OUT.json: every method and pattern.

    TRAIN_TEXT and HELDOUT_TEXT are text files (tokenised with the checkpoint's tokenizer.json by the `tokenizers`
    package) or, where that package is missing, the ids of those texts as `bench llm-tokens` writes them (.safetensors).
    """
    import argparse
    import json

    p = argparse.ArgumentParser()
    p.add_argument("checkpoint")
    p.add_argument("train")
    p.add_argument("heldout")
    p.add_argument("out")
    p.add_argument("--nsamples", type=int, default=64)
    p.add_argument("--seqlen", type=int, default=256)
    a = p.parse_args()

    def ids(path):
        if path.endswith(".safetensors"):
            return torch_gpt2.read_safetensors(path)["ids"]
        from tokenizers import Tokenizer
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return torch.tensor(Tokenizer.from_file(f"{a.checkpoint}/tokenizer.json").encode(text, add_special_tokens=False).ids)

    device = "cuda" if torch.cuda.is_available() else "cpu"
    calib = dict(nsamples=a.nsamples, seqlen=a.seqlen, seed=0)
    rows = evaluate_methods(a.checkpoint, ids(a.train), ids(a.heldout), calib, a.seqlen, device, lambda *m: print(*m, flush=True))
    with open(a.out, "w") as f:
        json.dump({"calibration": calib, "evaluation": {"seqlen": a.seqlen}, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
