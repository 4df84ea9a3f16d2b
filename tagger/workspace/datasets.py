"""What the Data page shows, computed here: the validation report with the
offending lines, statistics, tokenization with coverage, aligned examples,
vocabulary and dev OOV rate, and the train/dev split helper."""
from __future__ import annotations

import random
import time
from collections import Counter
from typing import Callable, Optional

from tagger.core import TaggerError
from tagger.workspace.store import Workspace

MAX_LINE_SHOWN = 300


def report(ws: Workspace, dataset_id) -> dict:
    """``validate()`` of the dataset, every problem with its location
    ``name:line`` and the offending line as it is in the file."""
    from tagger.corpus.validate import validate
    d = ws.dataset(dataset_id)
    rep = validate(ws.corpus(d["id"]))
    lines = ws.raw_lines(d["id"])
    rows = []
    for p in rep["problems"]:
        text = lines[p["line"] - 1] if 0 < p["line"] <= len(lines) else ""
        rows.append({"location": f"{d['name']}:{p['line']}", "level": p["level"], "message": p["message"],
                     "line": text[:MAX_LINE_SHOWN] + ("…" if len(text) > MAX_LINE_SHOWN else "")})
    rep["problem_rows"] = rows
    rep["path"] = d["name"]
    return rep


def statistics(ws: Workspace, dataset_id) -> dict:
    """Entities per type, sentence length histogram (characters), label counts."""
    corpus = ws.corpus(dataset_id)
    lengths = [len(s.text) for s in corpus.sentences]
    width = max(1, (max(lengths, default=0) // 20) or 1)
    bins = Counter((n // width) * width for n in lengths)
    return {"entities": dict(Counter(sp.label for s in corpus.sentences for sp in s.spans)),
            "labels": dict(Counter(s.label for s in corpus.sentences if s.label is not None)),
            "length_hist": [{"length": f"{b}–{b + width - 1}", "start": b, "sentences": bins[b]}
                            for b in sorted(bins)],
            "mean_length": sum(lengths) / len(lengths) if lengths else 0.0,
            "max_length": max(lengths, default=0), "granularity": corpus.granularity or "word",
            "labelled": corpus.granularity is not None}


def _dev_sentences(ws: Workspace, dataset_id, dev_id):
    from tagger.training.tagger import holdout_split
    sentences = ws.corpus(dataset_id).sentences
    if dev_id:
        return sentences, ws.corpus(dev_id).sentences
    return holdout_split(sentences, 0.1)


def tokenize_dataset(ws: Workspace, dataset_id, tokenizer: str, dev_id=None,
                     progress: Optional[Callable[[int, int], None]] = None, examples: int = 3) -> dict:
    """Tokenize (cached) and record coverage, fallbacks, time, vocabulary size
    and the dev OOV rate (dev = ``dev_id`` or every 10th sentence held out)."""
    from tagger.models.encoding import build_vocabs, oov_rate
    from tagger.tokenizers import entity_boundary_coverage, get_tokenizer
    d = ws.dataset(dataset_id)
    tok = get_tokenizer(tokenizer)
    train_s, dev_s = _dev_sentences(ws, d["id"], dev_id)
    texts = [s.text for s in train_s] + [s.text for s in dev_s]
    t0 = time.perf_counter()
    res = tok.tokenize_many(texts, cache=True, progress=progress)
    tr_tokens, dv_tokens = res.tokens[:len(train_s)], res.tokens[len(train_s):]
    types = sorted({sp.label for s in train_s for sp in s.spans})
    vocabs = build_vocabs(tr_tokens, types, tok.name)
    cov = entity_boundary_coverage(train_s + list(dev_s), res.tokens)
    stats = {"tokenizer": tok.name, "version": tok.version, "seconds": round(time.perf_counter() - t0, 2),
             "cache_hits": res.cache_hits, "analyzed": res.analyzed, "fallbacks": len(res.fallbacks),
             "tokens": sum(len(t) for t in res.tokens), "coverage": cov, "vocab_size": len(vocabs.words),
             "dev_oov_rate": oov_rate(vocabs, dv_tokens) if dv_tokens else None,
             "dev": ws.dataset(dev_id)["name"] if dev_id else "every 10th sentence held out",
             "fallback_examples": [{"sentence": i + 1, "reason": r} for i, r in res.fallbacks[:20]]}
    ws.record_tokenization(d["id"], tok.name, tok.version, stats)
    stats["examples"] = aligned_examples(train_s[:examples], tr_tokens[:examples])
    return stats


def aligned_examples(sentences, token_lists) -> list[dict]:
    """Per sentence: its text and a row per token (surface, form, POS, gold tag)."""
    from tagger.core.units import spans_to_token_tags
    out = []
    for s, toks in zip(sentences, token_lists):
        tags = spans_to_token_tags(toks, s.spans)
        out.append({"text": s.text, "rows": [
            {"token": t.text, "start": t.start, "end": t.end, "form": t.form or "", "pos": t.pos or "",
             "gold": tag} for t, tag in zip(toks, tags)]})
    return out


def split_dataset(ws: Workspace, dataset_id, dev_fraction: float = 0.1, seed: int = 1) -> tuple[dict, dict]:
    """Two new datasets (``name.train``, ``name.dev``) in the same format and
    encoding, sentences shuffled with ``seed``; the original is untouched."""
    from tagger.corpus.load import dumps_corpus
    d = ws.dataset(dataset_id)
    corpus = ws.corpus(d["id"])
    if corpus.has_errors():
        raise TaggerError(f"{d['name']} has errors (see the validation report): fix them before splitting")
    n = len(corpus.sentences)
    k = max(1, round(n * float(dev_fraction)))
    if not 0 < dev_fraction < 1 or n < 2 or k >= n:
        raise TaggerError(f"cannot hold out {dev_fraction:.0%} of {n} sentences as dev")
    order = list(range(n))
    random.Random(seed).shuffle(order)
    dev_idx = set(order[:k])
    parts = {}
    for part, keep in (("train", lambda i: i not in dev_idx), ("dev", lambda i: i in dev_idx)):
        sub = corpus.replace([s for i, s in enumerate(corpus.sentences) if keep(i)])
        stem = d["name"].rsplit(".", 1)
        name = f"{stem[0]}.{part}" + (f".{stem[1]}" if len(stem) == 2 else "")
        parts[part], _ = ws.add_dataset(name, dumps_corpus(sub), source=f"split of {d['id']}",
                                        format=d["format"], encoding=d["encoding"])
    return parts["train"], parts["dev"]
