"""Training any of the three LM kinds from lines of text: tokenize (cached),
vocabulary from the training text only, then counting (n-gram) or epochs of
Adam with gradient clipping and early stopping on held-out perplexity, the
best state kept (window, RNN). Reports through ``training.Callback`` hooks;
prints nothing."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Optional, Sequence

import torch
from torch import nn

from tagger.models.saving import resolve_device
from tagger.training import distributed
from tagger.training.loop import Callback, EpochLoop
from tagger.core import TaggerError
from tagger.lm.common import LMDataConfig, safe_exp, build_vocab, n_predicted, stream_ids, to_ids, tokenize_lines
from tagger.lm.ngram import NgramConfig, train_ngram
from tagger.lm.rnn import RNNLM, RNNLMConfig, RNNLMNet, chunks, columns, detach_state
from tagger.lm.window import WindowConfig, WindowLM, WindowNet, window_tensors

KINDS = ("ngram", "window", "rnn")
CONFIGS = {"ngram": NgramConfig, "window": WindowConfig, "rnn": RNNLMConfig}


@dataclass(frozen=True)
class LMTrainConfig:
    epochs: int = 40            # a cap; early stopping (patience) ends training, around epoch 20 on KLUE
    batch_size: int = 16        # RNN: parallel stream columns
    bptt: int = 35              # RNN: truncated-BPTT chunk length
    window_batch: int = 512     # window LM: examples per batch
    lr: float = 5e-3
    clip: float = 1.0
    patience: int = 2           # epochs without a better held-out perplexity
    anneal_patience: int = 0    # > 0: lr x anneal_factor after every this many epochs without a better one; 0 = off
    anneal_factor: float = 0.25
    seed: int = 1
    device: str = "auto"
    dev_fraction: float = 0.1   # held out of the training text when no dev text is given


# each kind's training defaults (docs/benchmarks.md, "Defaults"): the window LM's measured
# best Adam rate is lower than the RNN LM's; the RNN LM divides its rate by 4 after every
# epoch without a better held-out perplexity (pytorch/examples' word_language_model does the
# same); every other setting is LMTrainConfig's
TRAIN_DEFAULTS = {"ngram": LMTrainConfig(), "window": LMTrainConfig(lr=1e-3),
                  "rnn": LMTrainConfig(anneal_patience=1)}


def train_defaults(kind: str) -> LMTrainConfig:
    """The training settings ``lm-train --kind KIND`` uses when no flag overrides them."""
    if kind not in TRAIN_DEFAULTS:
        raise TaggerError(f"unknown LM kind {kind!r} (choose from {', '.join(KINDS)})")
    return TRAIN_DEFAULTS[kind]


def _say(cbs, text: str) -> None:
    for c in cbs:
        c.on_message(text)


def train_lm(texts: Sequence[str], dev_texts: Optional[Sequence[str]] = None, *, kind: str = "ngram",
             tokenizer: str = "kkma", config=None, train_config: Optional[LMTrainConfig] = None,
             data_config: LMDataConfig = LMDataConfig(), callbacks: Sequence[Callback] = (),
             resume: Optional[dict] = None):
    """Train an LM of ``kind`` on lines of text; ``config`` is that kind's config,
    ``train_config`` its training settings (default: ``train_defaults(kind)``).
    Window and RNN LMs hand a checkpoint to ``on_checkpoint`` after every epoch;
    ``resume`` (such a checkpoint, same texts and settings) continues from it."""
    from tagger.tokenizers import get_tokenizer
    if kind not in KINDS:
        raise TaggerError(f"unknown LM kind {kind!r} (choose from {', '.join(KINDS)})")
    cbs, cfg = list(callbacks), config or CONFIGS[kind]()
    train_config = train_config or TRAIN_DEFAULTS[kind]
    texts = [t for t in texts if t.strip()]
    dev_texts = [t for t in dev_texts if t.strip()] if dev_texts is not None else None
    if dev_texts is None and kind != "ngram":
        k = max(2, min(round(1 / train_config.dev_fraction), len(texts)))
        texts, dev_texts = [t for i, t in enumerate(texts) if i % k != k - 1], texts[k - 1::k]
        _say(cbs, f"no dev text: holding out {len(dev_texts)} of the training lines")
    if not texts or (kind != "ngram" and not dev_texts):
        raise TaggerError("an LM needs at least one training line (and one held-out line for window/rnn)")
    tok = get_tokenizer(tokenizer)
    progress = lambda d, t: [c.on_tokenize(d, t) for c in cbs]  # noqa: E731
    t0 = time.perf_counter()
    tr_toks = tokenize_lines(texts, tokenizer, progress)
    dv_toks = tokenize_lines(dev_texts, tokenizer, progress) if dev_texts else None
    tok.close()
    vocab = build_vocab(tr_toks, data_config)
    tr_ids = to_ids(tr_toks, vocab)
    _say(cbs, f"tokenized {len(texts)} lines with {tokenizer} in {time.perf_counter() - t0:.1f}s; "
              f"{sum(map(len, tr_toks))} tokens, vocabulary {len(vocab)} (min_freq {data_config.min_freq})")
    meta = {"lm_config": asdict(cfg), "train_config": asdict(train_config),
            "data_config": asdict(data_config), "train_lines": len(texts)}
    if kind == "ngram":
        lm = train_ngram(tr_ids, cfg, vocab, tok.name, tok.version, meta)
    else:
        with distributed.session(resolve_device(train_config.device)) as device:  # torchrun: data-parallel
            lm = _train_neural(kind, cfg, vocab, tok, meta, tr_ids, to_ids(dv_toks, vocab), train_config,
                               cbs, device, resume)
    if dv_toks is not None and distributed.is_main():  # under torchrun only rank 0 saves the model
        lm.meta["dev"] = {k: v for k, v in lm.evaluate_tokens(dv_toks, dev_texts).items()
                          if k in ("perplexity", "bits_per_char", "tokens", "oov_rate")}
    return lm


def _train_neural(kind, cfg, vocab, tok, meta, tr_ids, dv_ids, train_config, cbs, device, resume):
    torch.manual_seed(train_config.seed)
    size = len(vocab)
    lm = (RNNLM(RNNLMNet(cfg, size), vocab, tok.name, tok.version, meta) if kind == "rnn"
          else WindowLM(WindowNet(cfg, size), vocab, tok.name, tok.version, meta))
    lm.module.to(device)
    loop = _NeuralLoop(lm, tr_ids, dv_ids, train_config, cbs, device)
    if resume:
        loop.restore(resume)
        _say(cbs, f"resuming after epoch {loop.epoch}")
    loop.distribute()
    loop.run()
    return lm


def rnn_epoch(net: RNNLMNet, x: torch.Tensor, y: torch.Tensor, cfg: LMTrainConfig, opt, on_step=None,
              opt_step=None) -> tuple:
    """One pass of truncated BPTT over the column layout; returns (summed loss, tokens).
    ``opt_step(loss, tokens)``, when given, takes the optimizer step (the loop's, DDP-aware)."""
    state, total, count = None, torch.zeros((), dtype=torch.float64), 0
    steps = -(-x.size(1) // cfg.bptt)
    for step, (xc, yc) in enumerate(chunks(x, y, cfg.bptt), 1):
        state = detach_state(state)                                     # no gradient into past chunks
        logits, state = net(xc, state)                                  # (B, T, V)
        n = int((yc >= 0).sum())
        loss = nn.functional.cross_entropy(logits.flatten(0, 1).float(), yc.flatten(), ignore_index=-100,
                                           reduction="sum") / max(n, 1)
        if opt_step is not None:
            opt_step(loss, n)
        else:
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), cfg.clip)
            opt.step()
        total += loss.detach().double().cpu() * n
        count += n
        if on_step:
            on_step(step, steps)
    return float(total), count


def window_epoch(net: WindowNet, ctx, tgt, cfg: LMTrainConfig, opt, gen, on_step=None, opt_step=None) -> tuple:
    """One shuffled pass; under torchrun this rank's equal share of the permutation."""
    perm = distributed.shard_tensor(torch.randperm(len(tgt), generator=gen)).to(ctx.device)
    total, steps = torch.zeros((), dtype=torch.float64), -(-len(perm) // cfg.window_batch)
    for step, i in enumerate(range(0, len(perm), cfg.window_batch), 1):
        idx = perm[i:i + cfg.window_batch]
        loss = nn.functional.cross_entropy(net(ctx[idx]).float(), tgt[idx])
        if opt_step is not None:
            opt_step(loss, len(idx))
        else:
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), cfg.clip)
            opt.step()
        total += loss.detach().double().cpu() * len(idx)
        if on_step:
            on_step(step, steps)
    return float(total), len(perm)


def _rnn_columns(tr_ids, batch_size: int):
    """The column layout; under torchrun N * batch_size columns, rank r taking r, r+N, ..."""
    if not distributed.active():
        return columns(stream_ids(tr_ids), batch_size)
    n = distributed.world_size()
    x, y = columns(stream_ids(tr_ids), batch_size * n)
    if x.size(0) < n:
        raise TaggerError(f"too little training text for {n} ranks")
    rows = distributed.shard_rows(x.size(0))
    return x[rows], y[rows]


class _NeuralLoop(EpochLoop):
    """Window/RNN LM epochs, early-stopped on held-out perplexity; the
    checkpoint carries the vocabulary so it never resumes on other text."""
    HIGHER_IS_BETTER = False

    def __init__(self, lm, tr_ids, dv_ids, cfg: LMTrainConfig, cbs, device):
        super().__init__(lm.module, cfg, cbs)
        self.lm, self.dv_ids = lm, dv_ids
        if lm.kind == "rnn":
            x, y = _rnn_columns(tr_ids, cfg.batch_size)
            self.data = (x.to(device), y.to(device))
        else:
            ctx, tgt = window_tensors(tr_ids, lm.cfg.order)
            self.data = (ctx.to(device), tgt.to(device))

    def checkpoint(self) -> dict:
        return {**super().checkpoint(), "vocab": list(self.lm.vocab.itos)}

    def restore(self, ck: dict) -> None:
        if list(ck.get("vocab", ())) != list(self.lm.vocab.itos):
            raise TaggerError("the checkpoint's vocabulary differs from this text's: it belongs to other "
                              "training text or settings")
        super().restore(ck)

    def run(self) -> None:
        super().run()
        self.lm.meta["history"] = self.history
        self.lm.meta["best_epoch"] = min(self.history, key=lambda r: r["dev_perplexity"])["epoch"]

    def one_epoch(self) -> dict:
        epoch = self.epoch
        self.module.train()
        t0 = time.perf_counter()
        on_step = lambda s, n: [c.on_batch(epoch, s, n) for c in self.cbs]  # noqa: E731
        if self.lm.kind == "rnn":
            total, count = rnn_epoch(self.forward, *self.data, self.cfg, self.opt, on_step, self.step)
        else:
            total, count = window_epoch(self.forward, *self.data, self.cfg, self.opt, self.gen, on_step, self.step)
        if distributed.active():  # the sums over every rank
            total, count = distributed.all_sum(total, count)
        seconds = time.perf_counter() - t0
        # under torchrun rank 0 scores the dev text (one stream, the RNN's state carried) and broadcasts
        dev_ppl = distributed.from_main(lambda: safe_exp(-self.lm.score_ids(self.dv_ids) / n_predicted(self.dv_ids)))
        improved = self.keep_if_best(dev_ppl)
        return {"epoch": epoch, "loss": total / max(count, 1), "train_perplexity": safe_exp(total / max(count, 1)),
                "dev_perplexity": dev_ppl, "train_seconds": seconds,
                "tokens_per_s": count / max(seconds, 1e-9), "best": improved}
