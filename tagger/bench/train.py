"""``bench train``: the engine's training throughput as a ratio against a bare
loop in the same process, on the same data (so the figure holds on a noisy
machine).

(a) *engine*: one epoch of ``TaggerLoop.train_pass`` — the real training path
    (length batching with its shuffle, slicing the pre-padded split, masking,
    loss, backward, clipping, optimizer step, callbacks).
(b) *bare*: the same ``Tagger`` (same shape, same initial weights, same
    hyperparameters) trained by a minimal loop over the very same batches,
    sliced into padded tensors before the clock starts.

Rounds alternate engine/bare and the best time of each is kept. Also timed,
for reference: a *raw* fused ``nn.LSTM`` (word embeddings -> BiLSTM -> linear
-> cross entropy, the dimensions of the tagger) over the same batches, and,
for the CRF head, the bare loop with the softmax head (the CRF's own cost).
Tokens are real tokens (padding not counted). Returns dicts; prints nothing.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from tagger.models.encoding import DataConfig, length_batches
from tagger.models.tagger import Tagger, TaggerConfig, TaggerModel
from tagger.models.saving import resolve_device
from tagger.training.tagger import Callback, TrainConfig, TaggerLoop, prepare
from tagger.core import Sentence, TaggerError


@dataclass(frozen=True)
class BenchConfig:
    tokenizer: str = "char"
    device: str = "auto"
    max_sentences: Optional[int] = None
    rounds: int = 2              # engine/bare alternations; the best of each is kept
    warmup_batches: int = 8
    reference: bool = True       # also time the raw fused LSTM (and softmax for a CRF run)
    crf_forward: str = "auto"    # auto (scan on CUDA, loop elsewhere) | loop | scan


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _fresh(mc: TaggerConfig, vocabs, device, seed: int, crf_forward: str = "auto") -> Tagger:
    torch.manual_seed(seed)                       # the same initial weights every time
    module = Tagger(mc, vocabs.sizes(), vocabs.tags).to(device)
    if module.crf is not None:
        module.crf.scan = {"auto": None, "loop": False, "scan": True}[crf_forward]
    return module


def _timed(fn, device) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of ``fn()``."""
    _sync(device)
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    _sync(device)
    return time.perf_counter() - t0, time.process_time() - c0


def bare_pass(module: nn.Module, opt, batches: Sequence[dict], clip: float) -> None:
    """The bare loop: loss, backward, clip, step over ready batches."""
    module.train()
    for batch in batches:
        loss = module.loss(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), clip)
        opt.step()


class RawLSTM(nn.Module):
    """The bare-metal reference: embeddings -> one fused (cuDNN/oneDNN)
    bidirectional multi-layer LSTM -> linear -> cross entropy on real tokens."""

    def __init__(self, mc: TaggerConfig, n_words: int, n_tags: int):
        super().__init__()
        self.emb = nn.Embedding(n_words, mc.embedding_dim, padding_idx=0)
        self.rnn = nn.LSTM(mc.embedding_dim, mc.hidden_size, mc.num_layers, batch_first=True,
                           bidirectional=mc.bidirectional, dropout=mc.dropout if mc.num_layers > 1 else 0.0)
        self.proj = nn.Linear(mc.hidden_size * (2 if mc.bidirectional else 1), n_tags)

    def loss(self, batch: dict) -> torch.Tensor:
        h, _ = self.rnn(self.emb(batch["words"]))                        # (B, T, H*dirs)
        em, mask = self.proj(h), batch["mask"]                           # (B, T, C)
        return nn.functional.cross_entropy(em[mask], batch["tags"][mask], reduction="sum") / mask.sum()


def _setup(sentences, mc, tc, cfg, device):
    from tagger.tokenizers import get_tokenizer
    tok = get_tokenizer(cfg.tokenizer)
    types = sorted({sp.label for s in sentences for sp in s.spans})
    vocabs, enc_tr, enc_dv, stats = prepare(sentences, sentences[:1], tok, None, types, [],
                                            DataConfig(), bigrams=mc.bigram_dim > 0)
    model = TaggerModel(_fresh(mc, vocabs, device, tc.seed, cfg.crf_forward), vocabs, tok.name, tok.version,
                        {"granularity": "char"})
    loop = TaggerLoop(model, enc_tr.to(device), enc_dv.to(device), sentences[:1], tc, [Callback()], device)
    loop.epoch = 1
    return vocabs, loop, stats


def _same_batches(loop: TaggerLoop) -> list[dict]:
    """The batches the loop's next ``train_pass`` will draw, already sliced."""
    gen = torch.Generator().manual_seed(0)
    gen.set_state(loop.gen.get_state())
    enc, dev = loop.enc_tr, loop.device
    return [enc.batch(idx.to(dev), n) for idx, n in
            length_batches(enc.lengths, loop.cfg.batch_size, shuffle=True, generator=gen)]


def bench_train(sentences: Sequence[Sentence], use_crf: bool = True, cfg: BenchConfig = BenchConfig(),
                model_config: TaggerConfig = TaggerConfig(), train_config: TrainConfig = TrainConfig(),
                say: Callable[[str], None] = lambda s: None) -> dict:
    """Time the engine's epoch and the bare loop (see the module doc); a
    JSON-able dict with ``engine_tokens_per_s``, ``bare_tokens_per_s``,
    ``ratio``, ``head``, ``device`` and the details."""
    sentences = list(sentences)[:cfg.max_sentences] if cfg.max_sentences else list(sentences)
    if not sentences:
        raise TaggerError("bench train: the corpus has no sentences")
    device = resolve_device(cfg.device)
    mc, tc = replace(model_config, use_crf=use_crf), train_config
    say(f"device: {device}" + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "")
        + f"; torch threads {torch.get_num_threads()}")
    vocabs, loop, stats = _setup(sentences, mc, tc, cfg, device)
    tokens = int(loop.enc_tr.lengths.sum())
    bare = _fresh(mc, vocabs, device, tc.seed, cfg.crf_forward)
    bare_opt = torch.optim.Adam(bare.parameters(), lr=tc.lr)
    batches = _same_batches(loop)
    bare_pass(bare, bare_opt, batches[:cfg.warmup_batches], tc.clip)    # warm-up, not timed
    eng, bar = [], []                                   # (wall, cpu) seconds per round
    for r in range(max(1, cfg.rounds)):
        batches = _same_batches(loop)
        eng.append(_timed(loop.train_pass, device))
        bar.append(_timed(lambda: bare_pass(bare, bare_opt, batches, tc.clip), device))
        say(f"round {r + 1}: engine {tokens / eng[-1][0]:,.0f} tok/s, bare {tokens / bar[-1][0]:,.0f} tok/s"
            f" (CPU time: {tokens / eng[-1][1]:,.0f} vs {tokens / bar[-1][1]:,.0f})")
    out = {"head": "crf" if use_crf else "softmax", "device": str(device), "tokenizer": cfg.tokenizer,
           "sentences": len(sentences), "tokens": tokens, "batches": len(batches),
           "padded_tokens": sum(int(b["mask"].numel()) for b in batches),
           "engine_tokens_per_s": tokens / min(w for w, _ in eng),
           "bare_tokens_per_s": tokens / min(w for w, _ in bar),
           "engine_cpu_tokens_per_s": tokens / min(c for _, c in eng),
           "bare_cpu_tokens_per_s": tokens / min(c for _, c in bar),
           "engine_seconds": [round(w, 3) for w, _ in eng], "bare_seconds": [round(w, 3) for w, _ in bar],
           "torch_threads": torch.get_num_threads(), "tokenize_seconds": stats["tokenize_seconds"],
           "batch_size": tc.batch_size, "hidden_size": mc.hidden_size, "num_layers": mc.num_layers,
           "embedding_dim": mc.embedding_dim}
    out["ratio"] = out["engine_tokens_per_s"] / out["bare_tokens_per_s"]
    out["cpu_ratio"] = out["engine_cpu_tokens_per_s"] / out["bare_cpu_tokens_per_s"]
    if use_crf:
        auto = "scan" if device.type == "cuda" else "loop"
        out["crf_forward"] = auto if cfg.crf_forward == "auto" else cfg.crf_forward
    if cfg.reference:
        out.update(_references(mc, vocabs, tc, device, batches, tokens, say))
    if "softmax_bare_tokens_per_s" in out:
        out["crf_cost_vs_softmax"] = out["softmax_bare_tokens_per_s"] / out["bare_tokens_per_s"]
        out["crf_cost_vs_softmax_cpu"] = out["softmax_bare_cpu_tokens_per_s"] / out["bare_cpu_tokens_per_s"]
    return out


def _references(mc, vocabs, tc, device, batches, tokens, say) -> dict:
    """The raw fused LSTM, and the softmax head's bare loop for a CRF run:
    one pass each over the same batches."""
    made = {"raw_lstm": RawLSTM(mc, len(vocabs.words), len(vocabs.tags)).to(device)}
    if mc.use_crf:
        made["softmax_bare"] = _fresh(replace(mc, use_crf=False), vocabs, device, tc.seed)
    out = {}
    for name, module in made.items():
        opt = torch.optim.Adam(module.parameters(), lr=tc.lr)
        bare_pass(module, opt, batches[:4], tc.clip)                     # warm-up, not timed
        wall, cpu = _timed(lambda: bare_pass(module, opt, batches, tc.clip), device)
        out[f"{name}_tokens_per_s"], out[f"{name}_cpu_tokens_per_s"] = tokens / wall, tokens / cpu
        say(f"{name.replace('_', ' ')}: {tokens / wall:,.0f} tok/s (CPU time: {tokens / cpu:,.0f})")
    return out
