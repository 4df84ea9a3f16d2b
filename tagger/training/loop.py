"""The epoch loop the tagger and the neural language models share: Adam, a
seeded generator for the batch order, epochs until the cap or until
``patience`` epochs bring no better dev score, the best state kept and put
back at the end, a checkpoint handed to ``on_checkpoint`` after every epoch,
and resuming from one (optimizer, generator and torch RNG included, so a
resumed run ends where the uninterrupted one does).

A subclass implements ``one_epoch() -> record`` (calling :meth:`keep_if_best`
with its dev score) and may add keys to :meth:`checkpoint`. Here too: the
training settings the tagger and the classifier share (``TrainConfig``), the
``Callback`` hooks every trainer reports through, and the deterministic dev
split (``holdout_split``)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 50
    batch_size: int = 32
    lr: float = 2e-3
    clip: float = 5.0
    patience: int = 8             # epochs without a better dev F1 before stopping
    seed: int = 1
    device: str = "auto"          # auto | cpu | cuda
    dev_fraction: float = 0.1     # held out of train when no dev set is given
    eval_batch_size: int = 256
    init_lm: str = ""             # an RNN LM directory to start from (same token unit), see lm/transfer.py


class Callback:
    """Hooks the trainers call; override what you need. All default to no-ops."""
    def on_message(self, text: str) -> None: ...
    def on_tokenize(self, done: int, total: int) -> None: ...
    def on_batch(self, epoch: int, step: int, steps: int) -> None: ...
    def on_epoch(self, record: dict) -> None: ...
    def on_checkpoint(self, state: dict) -> None: ...


def say(cbs, text: str) -> None:
    """``on_message`` to every callback."""
    for c in cbs:
        c.on_message(text)


def holdout_split(sentences: Sequence, fraction: float):
    """A deterministic dev split: every k-th sentence (k = round(1/fraction));
    a corpus too small for that gives its last sentence."""
    k = max(2, min(round(1 / fraction), len(sentences)))
    train = [s for i, s in enumerate(sentences) if i % k != k - 1]
    dev = [s for i, s in enumerate(sentences) if i % k == k - 1]
    return train, dev


class EpochLoop:
    BEST_KEY = "best"          # the checkpoint key of the best dev score so far
    HIGHER_IS_BETTER = True    # F1, accuracy; False for perplexity

    def __init__(self, module: torch.nn.Module, cfg, cbs):
        self.module, self.cfg, self.cbs = module, cfg, list(cbs)
        self.opt = torch.optim.Adam(module.parameters(), lr=cfg.lr)
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.best = -math.inf if self.HIGHER_IS_BETTER else math.inf
        self.history: list[dict] = []
        self.best_state, self.bad, self.epoch = None, 0, 0

    def one_epoch(self) -> dict:
        raise NotImplementedError

    def keep_if_best(self, score: float) -> bool:
        """Keep a CPU copy of the weights when ``score`` is the best yet; count a miss otherwise."""
        better = score > self.best if self.HIGHER_IS_BETTER else score < self.best
        if better:
            self.best, self.bad = score, 0
            self.best_state = {k: v.detach().clone().cpu() for k, v in self.module.state_dict().items()}
        else:
            self.bad += 1
        return better

    def checkpoint(self) -> dict:
        """Plain tensors and containers (loaded with ``weights_only``)."""
        return {"state": self.module.state_dict(), "optimizer": self.opt.state_dict(),
                "generator": self.gen.get_state(), "torch_rng": torch.get_rng_state(),
                "history": self.history, "epoch": self.epoch, "bad": self.bad,
                self.BEST_KEY: self.best, "best_state": self.best_state}

    def restore(self, ck: dict) -> None:
        self.module.load_state_dict(ck["state"])
        self.opt.load_state_dict(ck["optimizer"])
        self.gen.set_state(ck["generator"])
        torch.set_rng_state(ck["torch_rng"])
        self.history, self.epoch, self.bad = list(ck["history"]), int(ck["epoch"]), int(ck["bad"])
        self.best, self.best_state = float(ck[self.BEST_KEY]), ck["best_state"]

    def run(self) -> list[dict]:
        """Epochs until the cap or early stopping; the best weights are put back. Returns the history."""
        while self.epoch < self.cfg.epochs and self.bad < self.cfg.patience:
            self.epoch += 1
            record = self.one_epoch()
            self.history.append(record)
            for c in self.cbs:
                c.on_epoch(dict(record))
            state = self.checkpoint()
            for c in self.cbs:
                c.on_checkpoint(state)
        if self.best_state is not None:
            self.module.load_state_dict(self.best_state)
        return self.history
