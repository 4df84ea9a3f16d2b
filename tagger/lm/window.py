"""The window-based feed-forward LM (Bengio et al. 2003): the n-1 preceding
tokens' embeddings, concatenated -> tanh hidden layer -> scores over the
vocabulary. Training pairs are every padded sentence position (see
``common.padded_ngrams``), built once as tensors."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import nn

from tagger.core import TaggerError
from tagger.lm.common import BOS_ID, NeuralLM, padded_ngrams, predictable


@dataclass(frozen=True)
class WindowConfig:
    """Defaults: measured on the KLUE-NER split's text (docs/benchmarks.md, "Defaults"); its
    Adam rate is the window LM's training default (``train.TRAIN_DEFAULTS``), 0.001."""
    order: int = 4            # n: the window is the n-1 preceding tokens
    embedding_dim: int = 64
    hidden_size: int = 256
    dropout: float = 0.2      # on the concatenated window and the hidden layer


# what a saved config that leaves a setting out was saved under (pinned: WindowConfig may move)
STORED_DEFAULTS = {"order": 4, "embedding_dim": 64, "hidden_size": 256, "dropout": 0.2}


class WindowNet(nn.Module):
    def __init__(self, cfg: WindowConfig, vocab_size: int):
        super().__init__()
        if cfg.order < 2:
            raise TaggerError(f"--order {cfg.order}: a window LM needs order >= 2 (at least one context token)")
        self.cfg = cfg
        self.emb = nn.Embedding(vocab_size, cfg.embedding_dim, padding_idx=0)
        self.hidden = nn.Linear((cfg.order - 1) * cfg.embedding_dim, cfg.hidden_size)
        self.out = nn.Linear(cfg.hidden_size, vocab_size)
        self.drop = nn.Dropout(cfg.dropout)
        self.register_buffer("out_mask", torch.from_numpy(~predictable(vocab_size)), persistent=False)

    def forward(self, ctx: torch.Tensor) -> torch.Tensor:
        x = self.emb(ctx).flatten(1)                                     # (B, (n-1)*E)
        h = torch.tanh(self.hidden(self.drop(x)))                        # (B, H)
        return self.out(self.drop(h)).masked_fill(self.out_mask, float("-inf"))  # (B, V)


def window_tensors(id_lists, order: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(contexts (N, n-1), targets (N,)) for every predicted token."""
    g = torch.from_numpy(padded_ngrams(id_lists, order))                 # (N, n)
    return g[:, :-1].contiguous(), g[:, -1].contiguous()


class WindowLM(NeuralLM):
    kind = "window"
    CONFIG, NET = WindowConfig, WindowNet
    STORED_DEFAULTS = STORED_DEFAULTS

    @torch.no_grad()
    def score_ids(self, id_lists, batch_size: int = 1024) -> float:
        self.module.eval()
        ctx, tgt = window_tensors(id_lists, self.cfg.order)
        device = next(self.module.parameters()).device
        total = torch.zeros((), dtype=torch.float64)
        for i in range(0, len(tgt), batch_size):
            c, t = ctx[i:i + batch_size].to(device), tgt[i:i + batch_size].to(device)
            lp = self.module(c).float().log_softmax(-1)                  # (B, V)
            total += lp.gather(1, t[:, None]).sum().double().cpu()
        return float(total)

    @torch.no_grad()
    def next_probs(self, context: Sequence[int]) -> np.ndarray:
        self.module.eval()
        n = self.cfg.order
        ctx = ([BOS_ID] * (n - 1) + list(context))[-(n - 1):]
        device = next(self.module.parameters()).device
        logits = self.module(torch.tensor([ctx], device=device))         # (1, V)
        return logits.float().softmax(-1)[0].cpu().double().numpy()
