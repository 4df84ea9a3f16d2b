"""The epoch loop the tagger and the neural language models share: Adam, a
seeded generator for the batch order, epochs until the cap or until
``patience`` epochs bring no better dev score, the best state kept and put
back at the end, a checkpoint handed to ``on_checkpoint`` after every epoch,
and resuming from one (optimizer, generator and torch RNG included, so a
resumed run ends where the uninterrupted one does).

Under ``torchrun`` the subclass calls :meth:`distribute` and steps through
:meth:`step`; what that means (DDP, batch shards, one dev figure) lives in
:mod:`tagger.training.distributed`, and this loop stays model-agnostic. In one
process both are the plain module and the plain Adam step.

A subclass implements ``one_epoch() -> record`` (calling :meth:`keep_if_best`
with its dev score) and may add keys to :meth:`checkpoint`. What every trainer
shares without torch (``TrainConfig``, ``Callback``, ``say``,
``holdout_split``) is in :mod:`tagger.training.hooks` and re-exported here."""
from __future__ import annotations

import math

import torch

from tagger.training import distributed
from tagger.training.hooks import Callback, TrainConfig, holdout_split, say  # noqa: F401  (re-exported)


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
        self.forward, self.method = module, None    # what a step calls: the module, or its DDP wrapper (``distribute``)

    def distribute(self, method=None) -> None:
        """Step through DDP (the module, or its ``method``) when torchrun started this process."""
        self.forward = distributed.wrap(self.module, method)
        self.method = method

    def step(self, loss: torch.Tensor, weight=None) -> None:
        """Backward, clip, Adam. ``loss`` is a mean over ``weight`` units (tokens);
        under DDP it is reweighted so that unequal ranks average like one batch."""
        scale = distributed.share(weight) if weight is not None else None
        if scale is not None:
            loss = loss * scale
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.module.parameters(), self.cfg.clip)
        self.opt.step()

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
        distributed.seed_ranks(self.cfg.seed, self.epoch)
        while self.epoch < self.cfg.epochs and self.bad < self.cfg.patience:
            self.epoch += 1
            distributed.test_stall(self.epoch)
            record = self.one_epoch()
            self.history.append(record)
            for c in self.cbs:
                c.on_epoch(dict(record))
            state = self.checkpoint()
            for c in self.cbs:
                c.on_checkpoint(state)
        if self.best_state is not None:
            self.module.load_state_dict(self.best_state)
        if self.forward is not self.module:  # drop the DDP wrapper (it holds the process group)
            self.forward = getattr(self.module, self.method) if self.method else self.module
        return self.history
