"""Sentence classification (many-to-one) on ``TEXT<TAB>LABEL`` corpora:
token embeddings -> the tagger's ``StackedRNN`` -> the final hidden states
(forward at the last real token, backward at the first, concatenated) or the
max-pooled outputs -> one linear layer. Trained like the tagger (Adam,
clipping, length-bucketed batches, early stopping on dev accuracy, the best
state kept; ``TrainConfig``), scored by accuracy, macro F1, a per-class
report and a confusion matrix, saved as ``model.json`` (kind ``classifier``)
plus ``weights.pt``."""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from tagger.models.encoding import length_batches, token_key
from tagger.models.tagger import CELLS, StackedRNN
from tagger.models.saving import MODEL_JSON, WEIGHTS, _sha256, atomic_torch_save, atomic_write_text, config_from_json, read_description, resolve_device, safe_torch_load
from tagger.training.tagger import Callback, TrainConfig, holdout_split
from tagger.core import Sentence, TaggerError
from tagger.models.vocab import Vocab

FORMAT_VERSION = 1
POOLINGS = ("final", "max")


@dataclass(frozen=True)
class ClassifierConfig:
    rnn_type: str = "lstm"      # lstm | gru | rnn
    embedding_dim: int = 128
    hidden_size: int = 128      # per direction
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.3        # on embeddings, between layers and on the pooled vector
    pooling: str = "final"      # final | max
    min_freq: int = 1           # rarer training tokens are <unk>


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


def _tokens(texts: Sequence[str], tokenizer: str, cbs=()) -> list[list[str]]:
    from tagger.tokenizers import get_tokenizer
    res = get_tokenizer(tokenizer).tokenize_many(list(texts), cache=True, workers=min(2, os.cpu_count() or 1),
                                                 progress=lambda d, t: [c.on_tokenize(d, t) for c in cbs])
    return [[token_key(t) for t in toks] for toks in res.tokens]


class ClassifierModel:
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
            mask = torch.arange(T, device=device)[None, :] < lengths[idx].to(device)[:, None]
            out[idx.numpy()] = self.module(w, mask).float().softmax(-1).cpu().numpy()
        return out

    def predict(self, texts: Sequence[str]) -> list[dict]:
        p = self.probs_tokens(_tokens(texts, self.tokenizer))
        return [{"text": t, "label": self.labels[int(row.argmax())],
                 "probs": {lab: round(float(v), 4) for lab, v in zip(self.labels, row)}} for t, row in zip(texts, p)]

    def evaluate(self, sentences: Sequence[Sentence], token_lists=None) -> dict:
        toks = token_lists if token_lists is not None else _tokens([s.text for s in sentences], self.tokenizer)
        pred = [self.labels[i] for i in self.probs_tokens(toks).argmax(1)]
        return score_labels([s.label for s in sentences], pred, self.labels)

    # ---- saving and loading -------------------------------------------------
    def save(self, directory) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        atomic_torch_save({k: v.detach().cpu().contiguous() for k, v in self.module.state_dict().items()}, d / WEIGHTS)
        desc = {"format_version": FORMAT_VERSION, "kind": "classifier", "labels": self.labels,
                "tokenizer": {"name": self.tokenizer, "version": self.tokenizer_version}, "vocab": self.vocab.itos,
                "weights": {"file": WEIGHTS, "sha256": _sha256(d / WEIGHTS)}, **self.meta}
        atomic_write_text(d / MODEL_JSON, json.dumps(desc, ensure_ascii=False, indent=1))
        return d

    @classmethod
    def load(cls, directory, device: str = "cpu") -> "ClassifierModel":
        d = Path(directory)
        path = d / MODEL_JSON
        meta = read_description(d, "classifier")
        if not all(isinstance(meta.get(k), list) for k in ("labels", "vocab")) or "sha256" not in meta.get("weights", {}):
            raise TaggerError(f"{path}: incomplete classifier description")
        cfg = config_from_json(ClassifierConfig, meta.get("classifier_config", {}), path)
        vocab = Vocab(meta["vocab"])
        module = Classifier(cfg, len(vocab), len(meta["labels"]))
        try:
            module.load_state_dict(safe_torch_load(d / WEIGHTS, device, expect_sha=meta["weights"]["sha256"]))
        except RuntimeError as e:
            raise TaggerError(f"{d / WEIGHTS}: weights do not fit the model in {MODEL_JSON}: {str(e)[:200]}")
        module.to(resolve_device(device)).eval()
        keep = {k: v for k, v in meta.items() if k not in ("labels", "vocab", "tokenizer", "weights")}
        return cls(module, vocab, meta["labels"], meta["tokenizer"]["name"], meta["tokenizer"]["version"], keep)


def score_labels(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict:
    """Accuracy, macro F1 over the gold and predicted labels, per class, confusion matrix (rows gold)."""
    names = list(labels) + sorted({g for g in gold if g not in labels})
    index = {n: i for i, n in enumerate(names)}
    cm = np.zeros((len(names), len(names)), dtype=np.int64)
    for g, p in zip(gold, pred):
        cm[index[g], index[p]] += 1
    tp, support, predicted = np.diag(cm), cm.sum(1), cm.sum(0)
    per_class = {}
    for i, n in enumerate(names):
        if support[i] == 0 and predicted[i] == 0:
            continue
        prec = tp[i] / predicted[i] if predicted[i] else 0.0
        rec = tp[i] / support[i] if support[i] else 0.0
        per_class[n] = {"precision": float(prec), "recall": float(rec),
                        "f1": float(2 * prec * rec / (prec + rec)) if prec + rec else 0.0, "support": int(support[i])}
    return {"accuracy": float(tp.sum() / max(len(gold), 1)),
            "macro_f1": float(np.mean([c["f1"] for c in per_class.values()])) if per_class else 0.0,
            "per_class": per_class, "confusion": {"labels": names, "matrix": cm.tolist()}, "sentences": len(gold)}


def train_classifier(train: Sequence[Sentence], dev: Optional[Sequence[Sentence]] = None, *, tokenizer: str = "char",
                     config: ClassifierConfig = ClassifierConfig(), train_config: TrainConfig = TrainConfig(),
                     callbacks: Sequence[Callback] = ()) -> ClassifierModel:
    from tagger.tokenizers import get_tokenizer
    cbs, tc = list(callbacks), train_config
    if dev is None:
        train, dev = holdout_split(list(train), tc.dev_fraction)
        for c in cbs:
            c.on_message(f"no dev set: holding out {len(dev)} of the training sentences as dev")
    if not train or not dev or any(s.label is None for s in list(train) + list(dev)):
        raise TaggerError("classification needs TEXT<TAB>LABEL sentences: at least one for training and one for dev")
    torch.manual_seed(tc.seed)
    device = resolve_device(tc.device)
    tr_tok, dv_tok = _tokens([s.text for s in train], tokenizer, cbs), _tokens([s.text for s in dev], tokenizer, cbs)
    tok = get_tokenizer(tokenizer)
    tok.close()
    vocab = Vocab.build((t for toks in tr_tok for t in toks), config.min_freq)
    labels = sorted({s.label for s in train})
    module = Classifier(config, len(vocab), len(labels)).to(device)
    model = ClassifierModel(module, vocab, labels, tok.name, tok.version,
                            {"classifier_config": asdict(config), "train_config": asdict(tc)})
    ids, lengths = encode_tokens(tr_tok, vocab)
    y = torch.tensor([labels.index(s.label) for s in train])
    _fit(model, ids.to(device), lengths, y.to(device), dev, dv_tok, tc, cbs)
    return model


def _fit(model, ids, lengths, y, dev, dv_tok, tc: TrainConfig, cbs) -> None:
    opt = torch.optim.Adam(model.module.parameters(), lr=tc.lr)
    gen = torch.Generator().manual_seed(tc.seed)
    best, best_state, bad, history = -1.0, None, 0, []
    for epoch in range(1, tc.epochs + 1):
        model.module.train()
        t0, total = time.perf_counter(), 0.0
        batches = length_batches(lengths, tc.batch_size, shuffle=True, generator=gen)
        for step, (idx, T) in enumerate(batches, 1):
            idx_d = idx.to(ids.device)
            mask = torch.arange(T, device=ids.device)[None, :] < lengths[idx].to(ids.device)[:, None]  # (B, T)
            loss = nn.functional.cross_entropy(model.module(ids[idx_d, :T], mask).float(), y[idx_d])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.module.parameters(), tc.clip)
            opt.step()
            total += float(loss.detach()) * len(idx)
            for c in cbs:
                c.on_batch(epoch, step, len(batches))
        seconds = time.perf_counter() - t0
        scores = model.evaluate(dev, dv_tok)
        improved = scores["accuracy"] > best
        if improved:
            best, bad = scores["accuracy"], 0
            best_state = {k: v.detach().clone() for k, v in model.module.state_dict().items()}
        else:
            bad += 1
        rec = {"epoch": epoch, "loss": total / len(y), "dev_accuracy": scores["accuracy"],
               "dev_macro_f1": scores["macro_f1"], "train_seconds": seconds,
               "sentences_per_s": len(y) / max(seconds, 1e-9), "best": improved}
        history.append(rec)
        for c in cbs:
            c.on_epoch(dict(rec))
        if bad >= tc.patience:
            break
    model.module.load_state_dict(best_state)
    model.meta.update(history=history, best_epoch=max(history, key=lambda r: r["dev_accuracy"])["epoch"],
                      dev_scores={k: v for k, v in model.evaluate(dev, dv_tok).items() if k != "confusion"})
