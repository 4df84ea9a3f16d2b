"""Training the sentence classifier on the shared epoch loop: tokenize
(cached), a vocabulary from the training text, then epochs of Adam over
length-bucketed batches with clipping, early stopping on dev accuracy, the
best state kept, a checkpoint after every epoch and resuming from one (the
same texts and settings end where the uninterrupted run does)."""
from __future__ import annotations

import time
from dataclasses import asdict
from typing import Optional, Sequence

import torch
from torch import nn

from tagger.core import Sentence, TaggerError
from tagger.models.classifier import Classifier, ClassifierConfig, ClassifierModel, encode_tokens, tokens_of
from tagger.models.encoding import length_batches
from tagger.models.saving import resolve_device
from tagger.models.vocab import Vocab
from tagger.training.loop import Callback, EpochLoop, TrainConfig, holdout_split, say


def train_classifier(train: Sequence[Sentence], dev: Optional[Sequence[Sentence]] = None, *, tokenizer: str = "char",
                     config: ClassifierConfig = ClassifierConfig(), train_config: TrainConfig = TrainConfig(),
                     callbacks: Sequence[Callback] = (), resume: Optional[dict] = None) -> ClassifierModel:
    """Train a classifier on ``TEXT<TAB>LABEL`` sentences; the model at its
    best dev epoch. ``resume`` is a checkpoint handed to ``on_checkpoint``
    by a run on the same data and settings."""
    from tagger.tokenizers import get_tokenizer
    cbs, tc = list(callbacks), train_config
    if dev is None:
        train, dev = holdout_split(list(train), tc.dev_fraction)
        say(cbs, f"no dev set: holding out {len(dev)} of the training sentences as dev")
    if not train or not dev or any(s.label is None for s in list(train) + list(dev)):
        raise TaggerError("classification needs TEXT<TAB>LABEL sentences: at least one for training and one for dev")
    torch.manual_seed(tc.seed)
    device = resolve_device(tc.device)
    tr_tok, dv_tok = tokens_of([s.text for s in train], tokenizer, cbs), tokens_of([s.text for s in dev], tokenizer, cbs)
    tok = get_tokenizer(tokenizer)
    tok.close()
    vocab = Vocab.build((t for toks in tr_tok for t in toks), config.min_freq)
    labels = sorted({s.label for s in train})
    module = Classifier(config, len(vocab), len(labels)).to(device)
    model = ClassifierModel(module, vocab, labels, tok.name, tok.version,
                            {"classifier_config": asdict(config), "train_config": asdict(tc)})
    ids, lengths = encode_tokens(tr_tok, vocab)
    y = torch.tensor([labels.index(s.label) for s in train])
    loop = _ClassifierLoop(model, (ids.to(device), lengths, y.to(device)), (dev, dv_tok), tc, cbs)
    if resume:
        loop.restore(resume)
        say(cbs, f"resuming after epoch {loop.epoch}")
    loop.run()
    return model


class _ClassifierLoop(EpochLoop):
    """The classifier's epochs: a length-bucketed pass of cross entropy, then
    dev accuracy (the score kept) and macro F1."""
    BEST_KEY = "best_accuracy"

    def __init__(self, model: ClassifierModel, train_data, dev_data, cfg: TrainConfig, cbs):
        super().__init__(model.module, cfg, cbs)
        self.model, (self.ids, self.lengths, self.y), (self.dev, self.dv_tok) = model, train_data, dev_data

    def checkpoint(self) -> dict:
        return {**super().checkpoint(), "vocab": list(self.model.vocab.itos), "labels": list(self.model.labels)}

    def restore(self, ck: dict) -> None:
        if list(ck.get("vocab", ())) != self.model.vocab.itos or list(ck.get("labels", ())) != self.model.labels:
            raise TaggerError("the checkpoint's vocabulary or labels differ from this data's: it belongs to "
                              "other training data or settings")
        super().restore(ck)

    def run(self) -> None:
        super().run()
        self.model.meta.update(history=self.history,
                               best_epoch=max(self.history, key=lambda r: r["dev_accuracy"])["epoch"],
                               dev_scores={k: v for k, v in self.model.evaluate(self.dev, self.dv_tok).items()
                                           if k != "confusion"})

    def one_epoch(self) -> dict:
        self.module.train()
        t0, total = time.perf_counter(), self.train_pass()
        seconds = time.perf_counter() - t0
        scores = self.model.evaluate(self.dev, self.dv_tok)
        improved = self.keep_if_best(scores["accuracy"])
        n = len(self.y)
        return {"epoch": self.epoch, "loss": total / n, "dev_accuracy": scores["accuracy"],
                "dev_macro_f1": scores["macro_f1"], "train_seconds": seconds,
                "sentences_per_s": n / max(seconds, 1e-9), "best": improved}

    def train_pass(self) -> float:
        """One pass over the training batches; the summed loss."""
        ids, lengths, y, total = self.ids, self.lengths, self.y, 0.0
        batches = length_batches(lengths, self.cfg.batch_size, shuffle=True, generator=self.gen)
        for step, (idx, T) in enumerate(batches, 1):
            idx_d = idx.to(ids.device)
            mask = torch.arange(T, device=ids.device)[None, :] < lengths[idx].to(ids.device)[:, None]  # (B, T)
            loss = nn.functional.cross_entropy(self.module(ids[idx_d, :T], mask).float(), y[idx_d])
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(self.module.parameters(), self.cfg.clip)
            self.opt.step()
            total += float(loss.detach()) * len(idx)
            for c in self.cbs:
                c.on_batch(self.epoch, step, len(batches))
        return total


__all__ = ["train_classifier"]
