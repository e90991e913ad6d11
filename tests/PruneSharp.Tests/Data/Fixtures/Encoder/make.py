# Writes tiny_encoder.onnx, a 3-input BERT-like encoder exported by torch.onnx (opset 14, dynamic batch and sequence):
# /usr/bin/python3 make.py (in this folder; Debian's torch 1.13).
import torch
torch.set_num_threads(1)
class Enc(torch.nn.Module):
    def __init__(s):
        super().__init__()
        s.word = torch.nn.Embedding(50, 16); s.tt = torch.nn.Embedding(2, 16); s.pos = torch.nn.Embedding(32, 16)
        s.register_buffer("position_ids", torch.arange(32).unsqueeze(0))
        s.fc = torch.nn.Linear(16, 16)
    def forward(s, input_ids, attention_mask, token_type_ids):
        n = input_ids.shape[1]
        h = s.word(input_ids) + s.tt(token_type_ids) + s.pos(s.position_ids[:, :n])
        bias = (1.0 - attention_mask[:, None, :].float()) * -10000.0
        scores = h @ h.transpose(1, 2) / 4.0 + bias
        return s.fc(scores.softmax(-1) @ h)
m = Enc().eval()
ids = torch.zeros(1, 8, dtype=torch.long)
torch.onnx.export(m, (ids, torch.ones_like(ids), torch.zeros_like(ids)), "tiny_encoder.onnx", opset_version=14,
    input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
    dynamic_axes={k: {0: "batch", 1: "sequence"} for k in ["input_ids", "attention_mask", "token_type_ids"]})
