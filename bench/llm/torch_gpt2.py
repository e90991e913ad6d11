"""GPT-2 in plain PyTorch, read from a Hugging Face checkpoint folder, for machines without `transformers`.

The maths follows transformers' GPT2LMHeadModel for the configurations our checkpoints use: learned positions added to
the token embeddings; per block LayerNorm -> fused q/k/v projection -> causal softmax(q k^T / sqrt(d)) v -> output
projection, residual; LayerNorm -> c_fc -> activation (`gelu_new` is the tanh approximation) -> c_proj, residual; a
final LayerNorm and the head tied to the token embeddings unless the checkpoint stores `lm_head.weight`. Projections
are Conv1D: the weight is stored [in, out] and applied as x @ W + b. Module names equal transformers' (transformer.h.i.
attn.c_attn, ...), so `pruning_reference.py` finds the same layers. Keys that change the maths and are not
implemented here (scale_attn_by_inverse_layer_idx, reorder_and_upcast_attn, other activations) are refused.

Only inference (no dropout, no cache). Needs torch >= 1.10 (torch.frombuffer); Debian 12's python3-torch 1.13 works.
"""
import json
import math
import os
import struct

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32}


def read_safetensors(path):
    """All tensors of one safetensors file, as float32 (floating point) or their integer type."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = bytearray(f.read())
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = DTYPES[info["dtype"]]
        t = torch.frombuffer(data, dtype=dtype, count=(end - begin) // torch.tensor([], dtype=dtype).element_size(),
                             offset=begin).reshape(info["shape"]).clone()
        out[name] = t.float() if t.is_floating_point() else t
    return out


def read_checkpoint(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    tensors = {}
    for name in files:
        tensors.update(read_safetensors(os.path.join(folder, name)))
    return tensors


class Conv1D(torch.nn.Module):
    """transformers' Conv1D: weight [in, out], y = x @ W + b."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(n_in, n_out))
        self.bias = torch.nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).reshape(*x.shape[:-1], -1)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Attention(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.width = c["n_head"], c["n_embd"]
        self.c_attn = Conv1D(self.width, 3 * self.width)
        self.c_proj = Conv1D(self.width, self.width)

    def forward(self, x):
        b, t, _ = x.shape
        d = self.width // self.heads
        q, k, v = self.c_attn(x).split(self.width, dim=2)
        q, k, v = (z.reshape(b, t, self.heads, d).transpose(1, 2) for z in (q, k, v))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d)
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        scores = scores.masked_fill(~causal, torch.finfo(scores.dtype).min)
        y = torch.softmax(scores, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).reshape(b, t, self.width))


class Mlp(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        inner = c.get("n_inner") or 4 * c["n_embd"]
        self.c_fc = Conv1D(c["n_embd"], inner)
        self.c_proj = Conv1D(inner, c["n_embd"])

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class Block(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        eps = c.get("layer_norm_epsilon", 1e-5)
        self.ln_1 = torch.nn.LayerNorm(c["n_embd"], eps=eps)
        self.attn = Attention(c)
        self.ln_2 = torch.nn.LayerNorm(c["n_embd"], eps=eps)
        self.mlp = Mlp(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class Transformer(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = torch.nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = torch.nn.Embedding(c["n_positions"], c["n_embd"])
        self.h = torch.nn.ModuleList(Block(c) for _ in range(c["n_layer"]))
        self.ln_f = torch.nn.LayerNorm(c["n_embd"], eps=c.get("layer_norm_epsilon", 1e-5))


class Output:
    def __init__(self, logits):
        self.logits = logits


class GPT2(torch.nn.Module):
    """GPT2LMHeadModel's inference forward; `model(input_ids=ids).logits` as transformers returns it."""

    def __init__(self, c):
        super().__init__()
        for key, allowed in (("scale_attn_by_inverse_layer_idx", (False, None)), ("reorder_and_upcast_attn", (False, None)),
                             ("scale_attn_weights", (True, None)), ("activation_function", ("gelu_new",)),
                             ("add_cross_attention", (False, None))):
            if c.get(key) not in allowed:
                raise ValueError(f"config.json: {key} = {c.get(key)!r} is not implemented by torch_gpt2.py")
        self.transformer = Transformer(c)
        self.tied = c.get("tie_word_embeddings", True)
        self.lm_head = None if self.tied else torch.nn.Linear(c["n_embd"], c["vocab_size"], bias=False)

    def forward(self, input_ids):
        t = input_ids.shape[1]
        tr = self.transformer
        x = tr.wte(input_ids) + tr.wpe(torch.arange(t, device=input_ids.device)).unsqueeze(0)
        for block in tr.h:
            x = block(x)
        x = tr.ln_f(x)
        head = tr.wte.weight if self.lm_head is None else self.lm_head.weight
        return Output(x @ head.t())


def load(folder):
    """The GPT-2 checkpoint in `folder` (config.json + safetensors, single or sharded) in float32, in eval mode."""
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    if config.get("model_type") != "gpt2":
        raise ValueError(f"{folder}: model_type {config.get('model_type')!r}; torch_gpt2.py reads only gpt2")
    model = GPT2(config)
    tensors = read_checkpoint(folder)
    if "lm_head.weight" in tensors and model.lm_head is None:
        del tensors["lm_head.weight"]  # the tied head stored anyway: equal to wte by tying
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    buffers = (".attn.bias", ".attn.masked_bias")  # causal-mask buffers older exports store
    missing = [k for k in missing if not k.endswith(buffers)]
    unexpected = [k for k in unexpected if not k.endswith(buffers)]
    if missing or unexpected:
        raise ValueError(f"{folder}: missing {missing}, unexpected {unexpected}")
    return model.eval()
