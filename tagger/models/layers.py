"""The recurrent building blocks the tagger and the classifier share: the
character encoder of a token, and ``StackedRNN`` (stacked, optionally
bidirectional ``nn.LSTM/GRU/RNN`` over padded batches, no packing).
Every ``forward`` keeps the batch layout (B, T, ...) with shape comments."""
from __future__ import annotations

import torch
from torch import nn

CELLS = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}


class CharEncoder(nn.Module):
    """Encodes each token from its characters: (B, T, L) -> (B, T, out_dim).
    ``cfg`` has ``char_encoder`` (cnn | lstm), ``char_dim`` and ``char_hidden``
    (a ``TaggerConfig``)."""

    def __init__(self, n_chars: int, cfg):
        super().__init__()
        self.kind = cfg.char_encoder
        self.emb = nn.Embedding(n_chars, cfg.char_dim, padding_idx=0)
        if self.kind == "cnn":
            self.conv = nn.Conv1d(cfg.char_dim, cfg.char_hidden, kernel_size=3, padding=1)
            self.out_dim = cfg.char_hidden
        else:
            self.rnn = nn.LSTM(cfg.char_dim, cfg.char_hidden // 2, batch_first=True, bidirectional=True)
            self.out_dim = 2 * (cfg.char_hidden // 2)

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        B, T, L = chars.shape
        flat = chars.reshape(B * T, L)                                  # (B*T, L)
        x = self.emb(flat)                                              # (B*T, L, char_dim)
        pad = flat.eq(0).unsqueeze(2)                                   # (B*T, L, 1)
        if self.kind == "cnn":
            h = self.conv(x.transpose(1, 2)).transpose(1, 2)            # (B*T, L, H)
        else:
            h, _ = self.rnn(x)                                          # (B*T, L, H)
        h = h.masked_fill(pad, -1e4).max(dim=1).values                  # (B*T, H)
        h = h.masked_fill(pad.all(dim=1), 0.0)                          # empty (pad) tokens -> 0
        return h.reshape(B, T, -1)                                      # (B, T, H)


def reverse_index(mask: torch.Tensor) -> torch.Tensor:
    """(B, T) indices that reverse each row's valid prefix and keep the padding."""
    T = mask.size(1)
    t = torch.arange(T, device=mask.device).unsqueeze(0)                # (1, T)
    lengths = mask.sum(1, keepdim=True)                                 # (B, 1)
    return torch.where(t < lengths, lengths - 1 - t, t)                 # (B, T)


class StackedRNN(nn.Module):
    """Layers of ``nn.LSTM/GRU/RNN`` over padded batches. The backward
    direction reads each sentence reversed within its own length (a gather),
    so padding at the end never reaches a real position and no packing is
    needed: packed sequences cost O(T^2) memory traffic in the CPU backward
    and are slower on cuDNN too. Dropout sits between layers only, never on
    the recurrent connection."""

    def __init__(self, cell: str, input_size: int, hidden: int, num_layers: int,
                 bidirectional: bool, dropout: float):
        super().__init__()
        make = getattr(nn, CELLS[cell])
        dirs = 2 if bidirectional else 1
        sizes = [input_size] + [hidden * dirs] * (num_layers - 1)
        self.fwd = nn.ModuleList([make(d, hidden, batch_first=True) for d in sizes])
        self.bwd = nn.ModuleList([make(d, hidden, batch_first=True) for d in sizes]) if bidirectional else None
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T = mask.shape
        rows = None
        if self.bwd is not None:   # reversal as a row gather of the (B*T, D) view: faster than gather
            rows = (reverse_index(mask) + T * torch.arange(B, device=mask.device).unsqueeze(1)).reshape(-1)
        for layer, fwd in enumerate(self.fwd):
            if layer > 0:
                x = self.drop(x)                                        # between layers only
            out, _ = fwd(x)                                             # (B, T, H)
            if self.bwd is not None:
                back, _ = self.bwd[layer](_rows(x, rows))
                out = torch.cat([out, _rows(back, rows)], dim=2)
            x = out                                                     # (B, T, H*dirs)
        return x


def _rows(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """(B, T, D) -> the same with time positions permuted by flat ``rows``."""
    B, T, D = x.shape
    return x.reshape(B * T, D).index_select(0, rows).view(B, T, D)

