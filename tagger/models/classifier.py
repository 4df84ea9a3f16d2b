"""Sentence classification (many-to-one) on ``TEXT<TAB>LABEL`` corpora:
token embeddings -> the tagger's ``StackedRNN`` -> the max-pooled outputs
(the default) or the final hidden states (forward at the last real token,
backward at the first, concatenated) -> one linear layer. ``ClassifierModel`` predicts on raw
text, scores itself (accuracy, macro F1, per class, confusion matrix) and
saves as ``model.json`` (kind ``classifier``) plus ``weights.pt``. Trained by
``tagger.training.classifier`` on the shared epoch loop."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from tagger.core import Sentence, TaggerError
from tagger.core.metrics import score_labels
from tagger.models.encoding import length_batches, token_key
from tagger.models.layers import CELLS, StackedRNN
from tagger.models.saving import SavedModel, config_from_json
from tagger.models.vocab import Vocab

POOLINGS = ("final", "max")


@dataclass(frozen=True)
class ClassifierConfig:
    """Defaults: the best dev accuracy of the settings measured on a KLUE-NER sentence task
    (benchmarks/classifier_defaults.py); max pooling since 2026-11-30 (was final)."""
    rnn_type: str = "lstm"      # lstm | gru | rnn
    embedding_dim: int = 128
    hidden_size: int = 128      # per direction
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.3        # on embeddings, between layers and on the pooled vector
    pooling: str = "max"        # max | final (measured: docs/benchmarks.md, "Defaults")
    min_freq: int = 1           # rarer training tokens are <unk>


# the defaults before they moved: a stored config that leaves a setting out meant these
STORED_DEFAULTS = {"rnn_type": "lstm", "embedding_dim": 128, "hidden_size": 128, "num_layers": 1,
                   "bidirectional": True, "dropout": 0.3, "pooling": "final", "min_freq": 1}


class Classifier(nn.Module):
    def __init__(self, cfg: ClassifierConfig, vocab_size: int, n_labels: int):
        super().__init__()
        if cfg.rnn_type not in CELLS or cfg.pooling not in POOLINGS:
            raise TaggerError(f"unknown cell {cfg.rnn_type!r} or pooling {cfg.pooling!r}")
        self.cfg = cfg
        self.emb = nn.Embedding(vocab_size, cfg.embedding_dim, padding_idx=0)
        self.rnn = StackedRNN(cfg.rnn_type, cfg.embedding_dim, cfg.hidden_size, cfg.num_layers,
                              cfg.bidirectional, cfg.dropout)
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(cfg.hidden_size * (2 if cfg.bidirectional else 1), n_labels)

    def forward(self, words: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.rnn(self.drop(self.emb(words)), mask)                   # (B, T, H*dirs)
        if self.cfg.pooling == "max":
            pooled = h.masked_fill(~mask.unsqueeze(2), float("-inf")).max(dim=1).values  # (B, H*dirs)
        else:
            H = self.cfg.hidden_size
            last = (mask.sum(1) - 1).clamp_min(0)                        # (B,)
            fwd = h[torch.arange(h.size(0), device=h.device), last, :H]  # (B, H): forward, last token
            pooled = torch.cat([fwd, h[:, 0, H:]], dim=1) if self.cfg.bidirectional else fwd  # backward: first
        return self.out(self.drop(pooled))                               # (B, C)


def encode_tokens(token_lists: Sequence[Sequence[str]], vocab: Vocab) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids (N, T), lengths (N,)); an empty text becomes one ``<unk>``."""
    lengths = np.array([max(len(t), 1) for t in token_lists], dtype=np.int64)
    ids = np.zeros((len(token_lists), max(int(lengths.max()) if len(lengths) else 1, 1)), dtype=np.int64)
    for i, toks in enumerate(token_lists):
        ids[i, :lengths[i]] = vocab.indices(toks) if toks else [1]
    return torch.from_numpy(ids), torch.from_numpy(lengths)


def tokens_of(texts: Sequence[str], tokenizer: str, cbs=()) -> list[list[str]]:
    """The classifier's units of each text (cached), reporting ``on_tokenize`` to ``cbs``."""
    from tagger.tokenizers import get_tokenizer
    res = get_tokenizer(tokenizer).tokenize_many(list(texts), cache=True, workers=min(2, os.cpu_count() or 1),
                                                 progress=lambda d, t: [c.on_tokenize(d, t) for c in cbs])
    return [[token_key(t) for t in toks] for toks in res.tokens]



class ClassifierModel(SavedModel):
    """A trained classifier. ``model.json`` keeps ``labels`` and ``vocab``;
    everything else is ``meta``."""
    KIND = "classifier"
    NOT_META = ("labels", "vocab", "tokenizer", "weights")

    def __init__(self, module: Classifier, vocab: Vocab, labels: list[str], tokenizer: str,
                 tokenizer_version: str, meta: Optional[dict] = None):
        self.module, self.vocab, self.labels = module, vocab, list(labels)
        self.tokenizer, self.tokenizer_version, self.meta = tokenizer, tokenizer_version, dict(meta or {})

    @torch.no_grad()
    def probs_tokens(self, token_lists, batch_size: int = 256) -> np.ndarray:
        """(N, C) label probabilities, in input order."""
        self.module.eval()
        ids, lengths = encode_tokens(token_lists, self.vocab)
        device = next(self.module.parameters()).device
        out = np.zeros((len(token_lists), len(self.labels)))
        for idx, T in length_batches(lengths, batch_size, shuffle=False):
            w = ids[idx, :T].to(device)
            mask = torch.arange(T, device=device)[None, :] < lengths[idx].to(device)[:, None]  # (B, T)
            out[idx.numpy()] = self.module(w, mask).float().softmax(-1).cpu().numpy()
        return out

    def predict(self, texts: Sequence[str]) -> list[dict]:
        p = self.probs_tokens(tokens_of(texts, self.tokenizer))
        return [{"text": t, "label": self.labels[int(row.argmax())],
                 "probs": {lab: round(float(v), 4) for lab, v in zip(self.labels, row)}} for t, row in zip(texts, p)]

    def evaluate(self, sentences: Sequence[Sentence], token_lists=None) -> dict:
        """``score_labels`` of the predicted against the gold labels."""
        toks = token_lists if token_lists is not None else tokens_of([s.text for s in sentences], self.tokenizer)
        pred = [self.labels[i] for i in self.probs_tokens(toks).argmax(1)]
        return score_labels([s.label for s in sentences], pred, self.labels)

    # ---- the SavedModel hooks -----------------------------------------------------
    def describe(self) -> tuple[dict, object]:
        return {"labels": self.labels, "vocab": self.vocab.itos}, self.module

    @classmethod
    def check(cls, desc: dict, path: Path) -> None:
        if not all(isinstance(desc.get(k), list) for k in ("labels", "vocab")) \
                or "sha256" not in desc.get("weights", {}):
            raise TaggerError(f"{path}: incomplete classifier description")

    @classmethod
    def rebuild(cls, desc: dict, meta: dict, data, where: Path) -> "ClassifierModel":
        stored = desc.get("classifier_config", {})
        stored = {**STORED_DEFAULTS, **stored} if isinstance(stored, dict) else stored  # missing: as saved
        cfg = config_from_json(ClassifierConfig, stored, where)
        vocab = Vocab(desc["vocab"])
        module = Classifier(cfg, len(vocab), len(desc["labels"]))
        tok = desc["tokenizer"]
        return cls(module, vocab, desc["labels"], tok["name"], tok["version"], meta)


__all__ = ["POOLINGS", "STORED_DEFAULTS", "ClassifierConfig", "Classifier", "ClassifierModel", "encode_tokens",
           "tokens_of"]
