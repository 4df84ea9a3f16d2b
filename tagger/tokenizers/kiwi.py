"""Kiwi morpheme tokenizer (``kiwi``) and Kiwi-featured characters
(``char+kiwi``).

Kiwi (``kiwipiepy``, which ships its own model) runs in this process, in C++,
and gives every morpheme its character offsets, so no alignment is needed:
a morpheme's span is Kiwi's own ``start``/``len`` (a contracted syllable gives
overlapping spans, 했 = 하 + 었, as the Kkma alignment does).  A non-space
character no morpheme covers (rare: Kiwi drops nothing we have seen) gets the
script-run fallback tokenization, POS ``UN``, and the sentence is reported in
``fallbacks``.  ``kiwipiepy`` is imported on first use only, never by
``import tagger``.  Analyses are cached like Kkma's (same SQLite cache, keyed
by tokenizer name, version and sentence).
"""
from __future__ import annotations

import threading
import time
from importlib import metadata
from typing import Optional, Sequence

from tagger.core import TaggerError, Token
from tagger.tokenizers.base import Progress, Tokenizer, TokenizeResult, fallback_tokens
from tagger.tokenizers.cache import TokenCache, encode_tokens, text_key
from tagger.tokenizers.analyzer import CharFeatureTokenizer, from_cache, place, slots_of

_BATCH = 256


def _version_of(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "none"


def fill_gaps(text: str, toks: list[Token]) -> tuple[list[Token], bool]:
    """``toks`` plus fallback tokens for the non-space characters no token
    covers, in text order; and whether any were added."""
    covered = bytearray(len(text))
    for t in toks:
        covered[t.start:t.end] = b"\x01" * (t.end - t.start)
    extra, start = [], None
    for i in range(len(text) + 1):
        gap = i < len(text) and not covered[i] and not text[i].isspace()
        if gap and start is None:
            start = i
        elif not gap and start is not None:
            extra += fallback_tokens(text[start:i], start)
            start = None
    if not extra:
        return toks, False
    return sorted(toks + extra, key=lambda t: (t.start, t.end)), True


class KiwiTokenizer(Tokenizer):
    """One Kiwi analyser per process, built on first use (~1-2 s); ``workers``
    is Kiwi's own thread count (it is rebuilt when that changes)."""
    name = "kiwi"

    def __init__(self):
        self._kiwi, self._threads = None, 0
        self._lock = threading.RLock()

    @property
    def version(self) -> str:
        return f"k1/kiwipiepy-{_version_of('kiwipiepy')}/model-{_version_of('kiwipiepy_model')}"

    def analyser(self, workers: int = 1):
        with self._lock:
            if self._kiwi is None or self._threads != workers:
                try:
                    from kiwipiepy import Kiwi
                except ImportError:
                    raise TaggerError("tokenizer kiwi needs the kiwipiepy package "
                                      "(pip install -r requirements.txt)") from None
                self._kiwi, self._threads = Kiwi(num_workers=max(1, workers)), workers
            return self._kiwi

    def _analyse(self, texts: list[str], workers: int) -> list[list[Token]]:
        kiwi = self.analyser(workers)
        out = []
        for text, res in zip(texts, kiwi.tokenize(texts)):
            out.append([Token(text[m.start:m.start + m.len], m.start, m.start + m.len, m.form, m.tag)
                        for m in res if m.len > 0])
        return out

    def tokenize(self, text: str) -> list[Token]:
        return self.tokenize_many([text], cache=False).tokens[0]

    def close(self) -> None:
        with self._lock:
            self._kiwi, self._threads = None, 0

    def tokenize_many(self, texts: Sequence[str], *, cache: bool = True, workers: int = 1,
                      progress: Progress = None, timeout: Optional[float] = None) -> TokenizeResult:
        """Same contract as Kkma's: order kept, identical texts analysed once,
        ``analyzed`` = sentences analysed now; ``timeout`` is not needed (Kiwi
        has no pathological inputs we know of) and ignored."""
        t0 = time.perf_counter()
        slots, tokens, notes = slots_of(texts)
        store = TokenCache() if cache else None
        try:
            todo, hits = from_cache(store, self.name, self.version, slots, tokens, notes)
            done = len(texts) - sum(len(slots[t]) for t in todo)
            if progress:
                progress(done, len(texts))
            for i in range(0, len(todo), _BATCH):
                part = todo[i:i + _BATCH]
                rows = []
                for text, toks in zip(part, self._analyse(part, workers)):
                    toks, filled = fill_gaps(text, toks)
                    note = "characters Kiwi left uncovered got fallback tokens" if filled else ""
                    done += place(slots[text], toks, note, tokens, notes)
                    rows.append((text_key(text), encode_tokens(toks), note or None))
                if store is not None:
                    store.put_many(self.name, self.version, rows)
                if progress:
                    progress(done, len(texts))
        finally:
            if store is not None:
                store.close()
        analyzed = len(texts) - hits - sum(len(slots[t]) for t in slots if not t.strip())
        return TokenizeResult(tokens, sorted(notes.items()), time.perf_counter() - t0, hits, analyzed)


class CharKiwiTokenizer(CharFeatureTokenizer):
    """Characters carrying the features of the Kiwi morpheme covering them."""
    name = "char+kiwi"
