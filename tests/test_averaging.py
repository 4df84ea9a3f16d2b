"""Checkpoint averaging in the shared epoch loop (``TrainConfig.average_top_k``):
the mean of known tensors, k=0 unchanged, the average kept only when dev
says so, resuming keeps the k best states, and a real tagger run. Also the
loop's learning-rate annealing on a dev plateau (``anneal_patience``)."""
import io
from dataclasses import dataclass

import pytest
import torch

from tagger.core import Sentence, Span
from tagger.training.loop import Callback, EpochLoop, average_states


def test_average_of_known_tensors():
    a = {"w": torch.tensor([1.0, 2.0]), "b": torch.tensor([[0.0, -4.0]]), "n": torch.tensor(3)}
    b = {"w": torch.tensor([3.0, 6.0]), "b": torch.tensor([[2.0, 0.0]]), "n": torch.tensor(7)}
    c = {"w": torch.tensor([5.0, 1.0]), "b": torch.tensor([[1.0, 1.0]]), "n": torch.tensor(9)}
    avg = average_states([a, b, c])
    assert torch.equal(avg["w"], torch.tensor([3.0, 3.0]))
    assert torch.equal(avg["b"], torch.tensor([[1.0, -1.0]]))
    assert avg["n"].item() == 3 and avg["n"].dtype == a["n"].dtype   # counters: the first state's
    assert torch.equal(average_states([a])["w"], a["w"])


@dataclass(frozen=True)
class Cfg:
    epochs: int = 6
    patience: int = 99
    lr: float = 1.0
    clip: float = 1e9
    seed: int = 1
    average_top_k: int = 0
    anneal_patience: int = 0
    anneal_factor: float = 0.5


class ToyLoop(EpochLoop):
    """One weight ``w``. Epoch e moves it to ``targets[e-1]`` through the
    optimizer (SGD-like: the step is scaled by the lr), so at lr 0 it stays;
    the dev score is ``score(w)``."""

    def __init__(self, cfg, targets, score, cbs=()):
        super().__init__(torch.nn.Linear(1, 1, bias=False), cfg, cbs)
        self.opt = torch.optim.SGD(self.module.parameters(), lr=cfg.lr)
        self.targets, self.score, self.calls = targets, score, 0

    def one_epoch(self) -> dict:
        self.calls += 1
        w = self.module.weight
        loss = 0.5 * (w - self.targets[(self.epoch - 1) % len(self.targets)]).pow(2).sum()  # one SGD step at lr 1 lands on the target
        self.step(loss)
        s = self.score(float(w.detach()))
        return {"epoch": self.epoch, "dev": s, "best": self.keep_if_best(s)}


def _w(loop) -> float:
    return float(loop.module.weight)


class Keep(Callback):
    def __init__(self):
        self.states, self.messages = [], []

    def on_checkpoint(self, state):
        buf = io.BytesIO()
        torch.save(state, buf)                       # plain tensors and containers only
        buf.seek(0)
        self.states.append(torch.load(buf, weights_only=True))

    def on_message(self, text):
        self.messages.append(text)


TARGETS = [5.0, 1.0, -1.0, 3.0, 2.0, 4.0]


def test_k0_is_the_old_behaviour_best_epoch_and_no_extra_pass():
    keep = Keep()
    loop = ToyLoop(Cfg(average_top_k=0), TARGETS, lambda w: -w * w, [keep])
    history = loop.run()
    assert _w(loop) == 1.0                           # the first of the two best epochs (|w| = 1)
    assert loop.calls == len(history) == 6           # no scoring pass
    assert all("average" not in r for r in history) and loop.top_states == []
    assert keep.messages == []
    assert [s["epoch"] for s in keep.states] == [1, 2, 3, 4, 5, 6]


def test_averaging_keeps_the_mean_of_the_k_best_when_dev_agrees():
    keep = Keep()
    plain = ToyLoop(Cfg(), TARGETS, lambda w: -w * w)
    plain.run()
    loop = ToyLoop(Cfg(average_top_k=2), TARGETS, lambda w: -w * w, [keep])
    history = loop.run()
    assert [e["epoch"] for e in loop.top_states] == [2, 3]
    assert _w(loop) == 0.0                           # mean of 1 and -1, dev score 0 > -1
    assert loop.calls == 7                           # one more pass, at lr 0, to score the average
    assert history[-1]["average"] == {"epochs": [2, 3], "dev_score": 0.0, "best_dev_score": -1.0, "kept": True}
    assert [{k: v for k, v in r.items() if k != "average"} for r in history] == plain.history  # training unchanged
    assert any("keeping the average" in m for m in keep.messages)
    assert loop.opt.param_groups[0]["lr"] == 1.0     # restored after the scoring pass


def test_averaging_is_refused_when_dev_says_it_is_worse():
    score = lambda w: -min(abs(w - 1), abs(w + 1))   # noqa: E731  two optima; their mean (0) is worse
    loop = ToyLoop(Cfg(average_top_k=3), TARGETS, score)
    history = loop.run()
    assert sorted(e["epoch"] for e in loop.top_states) == [2, 3, 5]
    assert history[-1]["average"]["kept"] is False
    assert _w(loop) == 1.0                           # the best epoch (2) is put back


def test_lower_is_better_scores_rank_the_other_way():
    class Perplexity(ToyLoop):
        HIGHER_IS_BETTER = False
    loop = Perplexity(Cfg(average_top_k=2), TARGETS, lambda w: w * w)
    loop.run()
    assert [e["epoch"] for e in loop.top_states] == [2, 3] and _w(loop) == 0.0


def test_resume_keeps_the_top_k_states_and_ends_like_the_uninterrupted_run():
    full = ToyLoop(Cfg(average_top_k=3), TARGETS, lambda w: -abs(w - 0.5))
    full.run()
    keep = Keep()
    first = ToyLoop(Cfg(epochs=3, average_top_k=3), TARGETS, lambda w: -abs(w - 0.5), [keep])
    first.run()
    ck = keep.states[-1]
    assert [e["epoch"] for e in ck["top_states"]] == [2, 3, 1]
    resumed = ToyLoop(Cfg(average_top_k=3), TARGETS, lambda w: -abs(w - 0.5))
    resumed.restore(ck)
    resumed.run()
    assert [e["epoch"] for e in resumed.top_states] == [e["epoch"] for e in full.top_states]
    assert _w(resumed) == _w(full)
    assert resumed.history == full.history


def test_annealing_halves_the_rate_after_each_plateau_of_p_epochs():
    keep = Keep()
    loop = ToyLoop(Cfg(anneal_patience=2), TARGETS, lambda w: -w * w, [keep])
    history = loop.run()
    # dev -25, -1 (best), -1, -9: two epochs without a better score -> lr 0.5 from epoch 5 on,
    # whose half step lands at 2.5, not 2; then two more misses -> 0.25
    assert [r["lr"] for r in history] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]
    assert [r["dev"] for r in history][4] == -6.25
    assert sum("learning rate now" in m for m in keep.messages) == 2
    plain = ToyLoop(Cfg(), TARGETS, lambda w: -w * w)
    assert all("lr" not in r for r in plain.run())   # 0 = off: the old records, the old run


def test_a_resumed_annealed_run_ends_like_the_uninterrupted_one():
    full = ToyLoop(Cfg(anneal_patience=2), TARGETS, lambda w: -w * w)
    full.run()
    keep = Keep()
    ToyLoop(Cfg(epochs=4, anneal_patience=2), TARGETS, lambda w: -w * w, [keep]).run()
    resumed = ToyLoop(Cfg(anneal_patience=2), TARGETS, lambda w: -w * w)
    resumed.restore(keep.states[-1])                 # after epoch 4, the rate already halved
    resumed.run()
    assert resumed.history == full.history and _w(resumed) == _w(full)


S1 = Sentence("김철수는 서울에 산다.", [Span(0, 3, "PS"), Span(5, 7, "LC")])
S2 = Sentence("삼성전자가 2020년에 왔다", [Span(0, 4, "OG"), Span(6, 11, "DT")])


@pytest.mark.usefixtures("one_torch_thread")
def test_a_tagger_trains_with_averaging_and_records_both_dev_scores():
    from tagger.models.tagger import TaggerConfig
    from tagger.training.tagger import TrainConfig, train
    cfg = TaggerConfig(hidden_size=16, embedding_dim=8, bigram_dim=8, dropout=0.0, unk_dropout=0.0)
    tc = TrainConfig(epochs=12, patience=12, lr=1e-2, batch_size=2, seed=3, device="cpu", average_top_k=3)
    model = train([S1, S2], [S1, S2], model_config=cfg, train_config=tc)
    avg = model.meta["history"][-1]["average"]
    assert len(avg["epochs"]) == 3 and 0.0 <= avg["dev_score"] <= 1.0
    assert avg["kept"] == (avg["dev_score"] >= avg["best_dev_score"])
    assert len(model.meta["history"]) == 12
