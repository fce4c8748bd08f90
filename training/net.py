"""The decoder: word embedding -> GRU -> vocabulary logits, and its one-step export form."""

import torch
from torch import nn


class CoachNet(nn.Module):
    """Trained on whole sequences with torch's fused GRU."""

    def __init__(self, vocab_size: int, embed: int, hidden: int, layers: int,
                 dropout: float) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.gru = nn.GRU(embed, hidden, layers, batch_first=True,
                          dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(self.drop(self.embed(ids)))
        return self.head(self.drop(out))


class StepNet(nn.Module):
    """The same weights as one explicit GRU step.

    Written with plain matrix products (not the ONNX GRU op) so onnxruntime's dynamic
    quantization turns every weight matrix into int8 (it quantizes MatMul and Gather).
    """

    def __init__(self, net: CoachNet) -> None:
        super().__init__()
        self.layers = net.gru.num_layers
        self.embed = nn.Parameter(net.embed.weight.detach().clone())
        self.w_ih = nn.ParameterList()
        self.w_hh = nn.ParameterList()
        self.b_ih = nn.ParameterList()
        self.b_hh = nn.ParameterList()
        for layer in range(self.layers):
            for name, target in (("weight_ih", self.w_ih), ("weight_hh", self.w_hh)):
                target.append(nn.Parameter(getattr(net.gru, f"{name}_l{layer}").detach().t()
                                           .contiguous()))
            for name, target in (("bias_ih", self.b_ih), ("bias_hh", self.b_hh)):
                target.append(nn.Parameter(getattr(net.gru, f"{name}_l{layer}").detach().clone()))
        self.head_w = nn.Parameter(net.head.weight.detach().t().contiguous())
        self.head_b = nn.Parameter(net.head.bias.detach().clone())

    def forward(self, token: torch.Tensor, hidden: torch.Tensor):
        x = self.embed[token]
        states = []
        for layer in range(self.layers):
            h = hidden[layer]
            gi = torch.matmul(x, self.w_ih[layer]) + self.b_ih[layer]
            gh = torch.matmul(h, self.w_hh[layer]) + self.b_hh[layer]
            i_r, i_z, i_n = gi.chunk(3, dim=-1)
            h_r, h_z, h_n = gh.chunk(3, dim=-1)
            r = torch.sigmoid(i_r + h_r)
            z = torch.sigmoid(i_z + h_z)
            n = torch.tanh(i_n + r * h_n)
            h = (1 - z) * n + z * h
            states.append(h)
            x = h
        return torch.matmul(x, self.head_w) + self.head_b, torch.stack(states)
