"""``bench predict``: prediction throughput of a trained tagger on a corpus
(tokenization timed apart from the model), and the single-sentence latency
of the Demo page's path (``split_sentences`` -> ``TaggerModel.predict``) with
a warm model. Returns a dict; prints nothing."""
from __future__ import annotations

import time
from typing import Callable, Sequence

import numpy as np
import torch

from tagger.core.units import split_sentences
from tagger.models.tagger import TaggerModel
from tagger.core import TaggerError

ANALYZERS = ("kkma", "char+kkma", "kiwi", "char+kiwi")


def _percentiles(ms: list[float]) -> dict:
    a = np.asarray(ms)
    return {"p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95)),
            "mean_ms": float(a.mean()), "max_ms": float(a.max()), "n": len(ms)}


def throughput(model: TaggerModel, texts: Sequence[str], batch_size: int = 64, workers: int = 1) -> dict:
    """Tokenize (cold: the cache is not used) and predict, timed apart."""
    from tagger.tokenizers import get_tokenizer
    tok = get_tokenizer(model.tokenizer)
    t0 = time.perf_counter()
    res = tok.tokenize_many(list(texts), cache=False, workers=workers)
    tok_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    model.predict(texts, batch_size=batch_size, token_lists=res.tokens)
    pred_s, pred_cpu = time.perf_counter() - t0, time.process_time() - c0
    n_tokens = sum(map(len, res.tokens))
    return {"sentences": len(texts), "tokens": n_tokens, "tokenize_seconds": tok_s,
            "predict_seconds": pred_s, "predict_cpu_seconds": pred_cpu, "sentences_per_s": len(texts) / pred_s,
            "tokens_per_s": n_tokens / pred_s,
            "end_to_end_sentences_per_s": len(texts) / (tok_s + pred_s)}


def latency(model: TaggerModel, texts: Sequence[str], n: int = 200, warmup: int = 10) -> dict:
    """Per-sentence wall time of the Demo path on ``n`` sentences, warm model.
    An analyzer tokenizer's time is excluded (its tokens are computed first,
    and its latency reported apart); char and eojeol are cheap and included."""
    from tagger.tokenizers import get_tokenizer
    texts = [t for t in texts if t.strip()][:n]
    if not texts:
        raise TaggerError("bench predict: no non-blank sentence to time")
    analyzer = model.tokenizer in ANALYZERS
    tok = get_tokenizer(model.tokenizer)
    pre, tok_ms = {}, []
    if analyzer:
        tok.tokenize_many(texts[:1], cache=False)                       # start the analyser
        for t in texts:
            t0 = time.perf_counter()
            pre[t] = tok.tokenize_many(split_sentences(t), cache=False).tokens
            tok_ms.append(1000 * (time.perf_counter() - t0))
    for t in texts[:warmup]:
        _demo(model, t, pre.get(t))
    ms, cpu_ms = [], []
    for t in texts:
        t0, c0 = time.perf_counter(), time.process_time()
        _demo(model, t, pre.get(t))
        ms.append(1000 * (time.perf_counter() - t0))
        cpu_ms.append(1000 * (time.process_time() - c0))
    out = {"latency": _percentiles(ms), "latency_cpu": _percentiles(cpu_ms),
           "tokenizer_included": not analyzer}
    if analyzer:
        out["tokenizer_latency"] = _percentiles(tok_ms)
    return out


def _demo(model: TaggerModel, text: str, token_lists=None) -> list[dict]:
    return model.predict(split_sentences(text), token_lists=token_lists)


def bench_predict(model: TaggerModel, texts: Sequence[str], batch_size: int = 64, n_latency: int = 200,
                  workers: int = 1, say: Callable[[str], None] = lambda s: None) -> dict:
    say(f"model tokenizer {model.tokenizer}; torch threads {torch.get_num_threads()}; "
        f"{len(texts)} sentences")
    out = {"tokenizer": model.tokenizer, "device": str(next(model.module.parameters()).device),
           "batch_size": batch_size, "torch_threads": torch.get_num_threads()}
    out.update(throughput(model, texts, batch_size, workers))
    out.update(latency(model, texts, n_latency))
    return out
