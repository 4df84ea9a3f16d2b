"""The annotation loop's engine (active learning): one round trains a tagger
on the sentences labelled so far, warm-started from the previous round's
model, and ranks the unlabelled sentences for review, most uncertain first.

What the app adds (which sentences are labelled, the review pages, storing
models) lives above the engine; this module is pure engine: no workspace,
runs or UI. ``benchmarks/active_loop.py`` measures what the order saves
against random and file order (docs/benchmarks.md).
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Optional, Sequence

from tagger.core import Sentence
from tagger.models.tagger import TaggerConfig, TaggerModel
from tagger.models.uncertainty import MEASURES, key_to_score, uncertainty_keys
from tagger.training.hooks import Callback, TrainConfig
from tagger.training.tagger import train, with_overrides
from tagger.training.warm import from_tagger


@dataclass(frozen=True)
class LoopConfig:
    """One round's settings: the review order's ``measure`` (see
    ``tagger.models.uncertainty``) and the training budget of a round; the
    model itself is the default tagger (``TaggerConfig()``). A warm-started
    round starts close to its end, so its cap and patience are short; the
    first round trains 100-odd sentences from scratch and needs a longer,
    faster schedule. Measured costs and the choice of ``margin``:
    docs/benchmarks.md, "The annotation loop: what uncertainty saves"."""
    measure: str = "margin"        # benchmarks/active_loop.py: path's F1 for a third fewer edits (docs/benchmarks.md)
    epochs: int = 10               # a warm-started round
    patience: int = 4              # 2 and 3 stopped rounds at their first epoch on a noisy 30-sentence dev split
    fresh_epochs: int = 30         # the first round (no previous model): a small set, from scratch
    fresh_patience: int = 10
    fresh_lr: float = 5e-3         # 100 sentences at 2e-3 / 32 stayed at dev F1 0 for 20 epochs, at 5e-3 / 16 for 6
    fresh_batch_size: int = 16
    batch_size: int = 32
    lr: float = 2e-3
    seed: int = 1
    dev_fraction: float = 0.1      # held out of the labelled sentences for early stopping (no dev given)
    device: str = "auto"
    eval_batch_size: int = 256

    def __post_init__(self):
        if self.measure not in MEASURES:
            raise ValueError(f"unknown uncertainty measure {self.measure!r} (choose from {', '.join(MEASURES)})")

    def train_config(self, warm: bool = True) -> TrainConfig:
        """The ``TrainConfig`` of a warm round, or (``warm=False``) of a fresh one."""
        names = {f.name for f in fields(TrainConfig)}
        cfg = with_overrides(TrainConfig(), **{f.name: getattr(self, f.name) for f in fields(self)
                                               if f.name in names})
        return cfg if warm else replace(cfg, epochs=self.fresh_epochs, patience=self.fresh_patience,
                                        lr=self.fresh_lr, batch_size=self.fresh_batch_size)


def train_round(sentences: Sequence[Sentence], previous: Optional[TaggerModel] = None, *,
                tokenizer: str = "char", config: LoopConfig = LoopConfig(),
                dev: Optional[Sequence[Sentence]] = None, callbacks: Sequence[Callback] = (),
                model_config: TaggerConfig = TaggerConfig()) -> TaggerModel:
    """A tagger trained on ``sentences`` (the labelled ones), warm-started from
    ``previous`` when given (fresh otherwise, with the fresh budget). Without ``dev``, every
    ``1/dev_fraction``-th sentence is held out for early stopping. The
    model's ``meta["transfer"]`` keeps the warm start's report."""
    init = from_tagger(previous) if previous is not None else None
    return train(list(sentences), list(dev) if dev is not None else None, tokenizer=tokenizer,
                 model_config=model_config, train_config=config.train_config(warm=init is not None),
                 callbacks=callbacks, init=init)


def rank_by_uncertainty(model: TaggerModel, token_lists, measure: Optional[str] = None,
                        batch_size: int = 64) -> list[tuple[int, float]]:
    """``(index, uncertainty)`` for every sentence, most uncertain first, ties
    by index. ``measure`` defaults to ``LoopConfig().measure``. The order
    uses the non-saturating key (``path``: -log P(best)), so long sentences
    whose scores all read 1.0 are still ordered."""
    measure = measure or LoopConfig().measure
    keys = uncertainty_keys(model, token_lists, measure, batch_size)
    order = sorted(range(len(keys)), key=lambda i: (-keys[i], i))
    return [(i, key_to_score(keys[i], measure)) for i in order]


__all__ = ["LoopConfig", "train_round", "rank_by_uncertainty"]
