"""The RNN LM: embeddings -> ``nn.LSTM/GRU/RNN`` (one direction) -> scores
over the vocabulary, optionally with the output layer tied to the embeddings.
Dropout sits between layers only (Zaremba et al. 2014): embeddings -> first
layer, between stacked layers, last layer -> output; never on the recurrent
connection, so the carried state is never dropped. It reads one continuous stream
(``</s> s1 </s> s2 </s> ...``) laid out as B parallel columns and is trained
with truncated backpropagation through time: the hidden state is carried
from chunk to chunk and detached at each chunk boundary.

Unlike the tagger's ``StackedRNN`` (bidirectional, no state between
batches), a language model must carry its state, so this uses the
multi-layer ``nn`` cell directly, whose ``dropout`` is between layers only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from tagger.models.layers import CELLS
from tagger.core import TaggerError
from tagger.lm.common import EOS_ID, NeuralLM, predictable, stream_ids


@dataclass(frozen=True)
class RNNLMConfig:
    """Defaults: the best setting measured to train within about 5 minutes on 2 CPU cores on
    the KLUE-NER split's text and beat the Kneser-Ney 3-gram there (with the rate annealing
    of ``train_defaults("rnn")``); 1 x 256 with dropout 0.4 is better at twice the CPU time
    (docs/benchmarks.md, "Defaults")."""
    cell: str = "lstm"        # lstm | gru | rnn
    embedding_dim: int = 128  # must equal hidden_size when tie (the CLI and the app set it so)
    hidden_size: int = 128
    num_layers: int = 1
    dropout: float = 0.25     # between layers only (input, stacked layers, output), never recurrent
    tie: bool = True          # output layer = embedding matrix


# the defaults before they moved: a stored config that leaves a setting out meant these
STORED_DEFAULTS = {"cell": "lstm", "embedding_dim": 256, "hidden_size": 256, "num_layers": 2, "dropout": 0.4,
                   "tie": False}


State = Optional[object]  # (h, c) for LSTM, h otherwise; each (layers, B, H)


def detach_state(state: State) -> State:
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


class RNNLMNet(nn.Module):
    def __init__(self, cfg: RNNLMConfig, vocab_size: int):
        super().__init__()
        if cfg.cell not in CELLS:
            raise TaggerError(f"unknown cell {cfg.cell!r} (choose from {', '.join(CELLS)})")
        if cfg.tie and cfg.embedding_dim != cfg.hidden_size:
            raise TaggerError(f"tied embeddings need embedding_dim == hidden_size (got {cfg.embedding_dim} and "
                              f"{cfg.hidden_size}): set both, or tie=False")
        self.cfg = cfg
        self.emb = nn.Embedding(vocab_size, cfg.embedding_dim, padding_idx=0)
        self.rnn = getattr(nn, CELLS[cfg.cell])(cfg.embedding_dim, cfg.hidden_size, num_layers=cfg.num_layers,
                                                dropout=cfg.dropout if cfg.num_layers > 1 else 0.0,
                                                batch_first=True)
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(cfg.hidden_size, vocab_size)
        if cfg.tie:
            self.out.weight = self.emb.weight
        self.register_buffer("out_mask", torch.from_numpy(~predictable(vocab_size)), persistent=False)

    def forward(self, x: torch.Tensor, state: State = None) -> tuple[torch.Tensor, State]:
        h, state = self.rnn(self.drop(self.emb(x)), state)               # (B, T, H)
        return self.out(self.drop(h)).masked_fill(self.out_mask, float("-inf")), state  # (B, T, V)


def columns(stream: np.ndarray, n_cols: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets (B, L) of a stream split into ``n_cols`` contiguous
    columns; each target is its input's successor, and the tail padding has
    target -100 (ignored), so every stream token after the first is predicted
    exactly once."""
    x, y = stream[:-1], stream[1:]
    n_cols = max(1, min(n_cols, len(x)))
    L = -(-len(x) // n_cols)
    xs = np.zeros(n_cols * L, dtype=np.int64)
    ys = np.full(n_cols * L, -100, dtype=np.int64)
    xs[:len(x)], ys[:len(y)] = x, y
    return torch.from_numpy(xs.reshape(n_cols, L)), torch.from_numpy(ys.reshape(n_cols, L))


def chunks(x: torch.Tensor, y: torch.Tensor, bptt: int):
    """(inputs, targets) chunks of ``bptt`` steps, in stream order."""
    for t in range(0, x.size(1), bptt):
        yield x[:, t:t + bptt], y[:, t:t + bptt]


class RNNLM(NeuralLM):
    kind = "rnn"
    CONFIG, NET = RNNLMConfig, RNNLMNet
    STORED_DEFAULTS = STORED_DEFAULTS

    @torch.no_grad()
    def score_stream(self, stream: np.ndarray, n_cols: int = 16, bptt: int = 256) -> tuple[float, int]:
        """(total log-probability, predicted tokens), the state carried across chunks."""
        self.module.eval()
        device = next(self.module.parameters()).device
        x, y = columns(stream, n_cols)
        total, count, state = torch.zeros((), dtype=torch.float64), 0, None
        for xc, yc in chunks(x.to(device), y.to(device), bptt):
            logits, state = self.module(xc, state)                       # (B, T, V)
            valid = yc >= 0
            lp = logits.float().log_softmax(-1)[valid].gather(1, yc[valid][:, None])
            total += lp.sum().double().cpu()
            count += int(valid.sum())
        return float(total), count

    def score_ids(self, id_lists) -> float:
        return self.score_stream(stream_ids(id_lists))[0]

    @torch.no_grad()
    def next_probs(self, context: Sequence[int]) -> np.ndarray:
        self.module.eval()
        device = next(self.module.parameters()).device
        x = torch.tensor([[EOS_ID] + list(context)], device=device)      # (1, T)
        logits, _ = self.module(x)
        return logits[0, -1].float().softmax(-1).cpu().double().numpy()
