"""What every trainer shares, without torch (so the CLI's parser and
``--help`` stay light): the training settings of the tagger and the
classifier (``TrainConfig``), the ``Callback`` hooks every trainer reports
through, and the deterministic dev split (``holdout_split``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


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
    average_top_k: int = 0        # > 1: end with the mean of the k best epochs' weights if dev says so; 0 = off
    anneal_patience: int = 0      # > 0: multiply the rate by anneal_factor after every this many epochs without a better dev score; 0 = off
    anneal_factor: float = 0.5


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
