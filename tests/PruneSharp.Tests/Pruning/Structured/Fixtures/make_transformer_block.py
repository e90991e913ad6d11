"""Writes transformer_block.onnx, the fixture of TransformerExportTests: one pre-LayerNorm transformer block
(4-head self-attention written out as q/k/v/o Linear layers, view to heads, softmax, and a GELU MLP, both residual),
width 24, 5 tokens, exported by torch.onnx with a dynamic batch at opset 17, so the head reshapes carry the exporter's
Shape -> Gather -> Unsqueeze -> Concat targets. Run offline with the system Python (torch 1.13, onnx):
    /usr/bin/python3 make_transformer_block.py
"""
import math

import torch


class Block(torch.nn.Module):
    def __init__(self, width=24, heads=4):
        super().__init__()
        self.heads, self.head_size = heads, width // heads
        self.ln1, self.ln2 = torch.nn.LayerNorm(width), torch.nn.LayerNorm(width)
        self.q, self.k, self.v, self.o = (torch.nn.Linear(width, width) for _ in range(4))
        self.fc, self.proj = torch.nn.Linear(width, 4 * width), torch.nn.Linear(4 * width, width)

    def attention(self, x):
        batch, tokens, width = x.shape
        def split(t):
            return t.view(batch, tokens, self.heads, self.head_size).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.head_size), dim=-1)
        return self.o((weights @ v).transpose(1, 2).reshape(batch, tokens, width))

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.proj(torch.nn.functional.gelu(self.fc(self.ln2(x))))


torch.manual_seed(0)
block = Block().eval()
with torch.no_grad():
    for p in block.parameters():  # LayerNorm scales and shifts away from 1 and 0 as well
        p.add_(0.1 * torch.randn_like(p))
torch.onnx.export(block, torch.randn(2, 5, 24), "transformer_block.onnx", input_names=["x"], output_names=["y"],
                  dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=17)
