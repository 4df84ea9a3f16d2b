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
with its dev score) and may add keys to :meth:`checkpoint`.

Checkpoint averaging (``average_top_k`` > 1 in the config, 0 = off): the loop
also keeps CPU copies of the k best epochs' weights (in the checkpoint too),
and at the end scores their average on dev the way every epoch is scored: one
more ``one_epoch`` at learning rate 0 (the weights do not move), so no loop has
to add anything. The average is kept when its dev score is not worse than the
best epoch's; both figures are reported (``on_message``) and recorded under
``"average"`` in the last epoch's record. The decision uses dev data only.

Annealing (``anneal_patience`` > 0, 0 = off): the learning rate is multiplied by
``anneal_factor`` after every ``anneal_patience`` epochs in a row without a
better dev score (Flair's anneal-on-plateau, inside the same early stopping).

What every trainer shares without torch (``TrainConfig``, ``Callback``, ``say``,
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
        self.top_k = int(getattr(cfg, "average_top_k", 0) or 0)  # 0 = no averaging (the LM config has none)
        self.top_states: list[dict] = []   # the k best epochs: {"score", "epoch", "state"}, best first
        self.anneal_every = int(getattr(cfg, "anneal_patience", 0) or 0)  # 0 = no annealing
        self.scoring_only = None           # while the average is scored: the score keep_if_best received
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
        """Keep a CPU copy of the weights when ``score`` is the best yet; count a miss otherwise.
        With ``average_top_k`` the copy also enters the k best when it ranks there."""
        if self.scoring_only is not None:   # scoring the average: record, change nothing
            self.scoring_only.append(float(score))
            return False
        better = score > self.best if self.HIGHER_IS_BETTER else score < self.best
        copy = None
        if better:
            self.best, self.bad = score, 0
            self.best_state = copy = _cpu_copy(self.module)
        else:
            self.bad += 1
        if self.top_k > 0:
            self._rank(float(score), copy)
        return better

    def _rank(self, score: float, copy) -> None:
        """Put this epoch among the k best when it ranks (ties: the earlier epoch stays ahead)."""
        sign = 1.0 if self.HIGHER_IS_BETTER else -1.0
        if len(self.top_states) >= self.top_k and sign * score <= sign * self.top_states[-1]["score"]:
            return
        entry = {"score": score, "epoch": self.epoch, "state": copy if copy is not None else _cpu_copy(self.module)}
        self.top_states = sorted(self.top_states + [entry], key=lambda e: -sign * e["score"])[:self.top_k]

    def checkpoint(self) -> dict:
        """Plain tensors and containers (loaded with ``weights_only``)."""
        return {"state": self.module.state_dict(), "optimizer": self.opt.state_dict(),
                "generator": self.gen.get_state(), "torch_rng": torch.get_rng_state(),
                "history": self.history, "epoch": self.epoch, "bad": self.bad,
                self.BEST_KEY: self.best, "best_state": self.best_state, "top_states": self.top_states}

    def restore(self, ck: dict) -> None:
        self.module.load_state_dict(ck["state"])
        self.opt.load_state_dict(ck["optimizer"])
        self.gen.set_state(ck["generator"])
        torch.set_rng_state(ck["torch_rng"])
        self.history, self.epoch, self.bad = list(ck["history"]), int(ck["epoch"]), int(ck["bad"])
        self.best, self.best_state = float(ck[self.BEST_KEY]), ck["best_state"]
        self.top_states = list(ck.get("top_states", []))[:self.top_k] if self.top_k > 0 else []

    def run(self) -> list[dict]:
        """Epochs until the cap or early stopping; the best weights are put back. Returns the history."""
        distributed.seed_ranks(self.cfg.seed, self.epoch)
        while self.epoch < self.cfg.epochs and self.bad < self.cfg.patience:
            self.epoch += 1
            distributed.test_stall(self.epoch)
            record = self.one_epoch()
            self.anneal(record)
            self.history.append(record)
            for c in self.cbs:
                c.on_epoch(dict(record))
            state = self.checkpoint()
            for c in self.cbs:
                c.on_checkpoint(state)
        if self.best_state is not None:
            self.module.load_state_dict(self.best_state)
        if self.top_k > 1 and len(self.top_states) > 1 and self.history:
            self.try_average()
        if self.forward is not self.module:  # drop the DDP wrapper (it holds the process group)
            self.forward = getattr(self.module, self.method) if self.method else self.module
        return self.history

    def anneal(self, record: dict) -> None:
        """With ``anneal_patience`` = p > 0: after p, 2p, … epochs in a row without a better dev
        score, multiply the learning rate by ``anneal_factor`` (the rate lives in the optimizer's
        state, so a resumed run continues with it); the epoch's record gets the rate it ends with."""
        if self.anneal_every <= 0:
            return
        if self.bad > 0 and self.bad % self.anneal_every == 0:
            for g in self.opt.param_groups:
                g["lr"] *= self.cfg.anneal_factor
            say(self.cbs, f"epoch {self.epoch}: no better dev score for {self.bad} epoch(s); "
                          f"learning rate now {self.opt.param_groups[0]['lr']:.2e}")
        record["lr"] = self.opt.param_groups[0]["lr"]

    def try_average(self) -> None:
        """Score the average of the k best epochs on dev; keep it when it is not worse than the best epoch."""
        averaged = average_states([e["state"] for e in self.top_states])
        self.module.load_state_dict(averaged)
        score = self.score_current()
        sign = 1.0 if self.HIGHER_IS_BETTER else -1.0
        keep = sign * score >= sign * self.best
        if not keep:
            self.module.load_state_dict(self.best_state)
        epochs = sorted(e["epoch"] for e in self.top_states)
        self.history[-1]["average"] = {"epochs": epochs, "dev_score": score, "best_dev_score": self.best,
                                       "kept": keep}
        say(self.cbs, f"checkpoint averaging: dev {score:.4f} for the average of epochs "
                      f"{', '.join(map(str, epochs))}, {self.best:.4f} at the best epoch; keeping "
                      + ("the average" if keep else "the best epoch"))

    def score_current(self) -> float:
        """The dev score of the weights as they are: one ``one_epoch`` at learning rate 0
        (Adam moves nothing, dropout only changes the discarded loss), its record dropped."""
        lrs = [g["lr"] for g in self.opt.param_groups]
        self.scoring_only = []
        try:
            for g in self.opt.param_groups:
                g["lr"] = 0.0
            self.one_epoch()
            return self.scoring_only[-1]
        finally:
            for g, lr in zip(self.opt.param_groups, lrs):
                g["lr"] = lr
            self.scoring_only = None


def _cpu_copy(module: torch.nn.Module) -> dict:
    return {k: v.detach().clone().cpu() for k, v in module.state_dict().items()}


def average_states(states: list[dict]) -> dict:
    """The element-wise mean of state dicts with the same keys; tensors that are
    not floating point (counters) are taken from the first state."""
    out = {}
    for k, v in states[0].items():
        if torch.is_floating_point(v):
            out[k] = torch.stack([s[k].to(v.dtype) for s in states]).mean(0)
        else:
            out[k] = v.clone()
    return out
