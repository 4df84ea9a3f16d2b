"""Kkma morpheme tokenizer (``kkma``) and Kkma-featured characters
(``char+kkma``).

Kkma runs in worker subprocesses (see :mod:`.kkma_worker`); this module never
imports konlpy.  Before Kkma sees a sentence it is cut into pieces:

* runs of more than ``MAX_RUN`` identical Hangul characters or of Hangul
  compatibility jamo (Kkma's time grows about 1.7x per jamo) become one token of
  their own, POS ``UN``, reported as a fallback for the sentence;
* the rest is chunked at spaces into pieces of at most ``CHUNK`` characters
  (a longer word is cut hard), each a separate request with its own time
  bound, offsets stitched back.

A piece Kkma fails on (Java exception, time-out, dead worker) gets the
script-run fallback tokenization (POS ``UN``) and the sentence is reported in
``fallbacks``.  Normal analyses, guarded runs and Kkma exceptions are cached
(the latter two with a note, so a hit is still reported); time-outs and dead
workers are not, so they are retried next time.

With a Ray address (:meth:`KkmaTokenizer.use_ray`, else ``TAGGER_RAY_ADDRESS``)
the pieces go to Kkma actors on the cluster instead (:mod:`.ray_pool`, a
drop-in for the worker pool, imported only then); everything above is the same.
"""
from __future__ import annotations

import atexit
import re
import threading
import time
import weakref
from importlib import metadata
from typing import Optional, Sequence

from tagger.core.units import WORD_RE
from tagger.core import TaggerError, Token
from tagger.settings import SettingError, ray_actors, ray_address
from tagger.tokenizers.base import Progress, Tokenizer, TokenizeResult, fallback_tokens
from tagger.tokenizers.analyzer import CharFeatureTokenizer, char_features, from_cache, place, slots_of
from tagger.tokenizers.cache import TokenCache, encode_tokens, text_key
from tagger.tokenizers.pool import WorkerPool

MAX_RUN = 6
CHUNK = 300
DEFAULT_TIMEOUT = 10.0
# Kkma's time explodes on runs of compatibility jamo (ㄷ x 13 ~ 1 s, x 20 ~ a
# minute; mixed ones too: ㄱㅏㄴㅏ... x 16 ~ 1 s) and grows on repeated syllables
_RUN = re.compile(r"[\u3131-\u318e]{%d,}|([\uac00-\ud7a3\u3131-\u318e])\1{%d,}"
                  % (MAX_RUN + 1, MAX_RUN))
_POOLS: "weakref.WeakSet" = weakref.WeakSet()   # WorkerPools and RayPools


@atexit.register
def _close_pools() -> None:
    for pool in list(_POOLS):
        pool.close()


def plan(text: str) -> tuple[list, list[str]]:
    """Pieces of ``text``: ``("kkma", offset, piece)`` or ``("run", offset,
    piece)``, in order, plus the notes for guarded runs."""
    pieces, notes, last = [], [], 0
    for m in _RUN.finditer(text):
        pieces += _chunks(text, last, m.start())
        pieces.append(("run", m.start(), m.group()))
        what = f"x {m.group()[0]!r}" if len(set(m.group())) == 1 else "jamo"
        notes.append(f"run of {len(m.group())} {what} at {m.start()} kept as one token")
        last = m.end()
    pieces += _chunks(text, last, len(text))
    return pieces, notes


def _chunks(text: str, lo: int, hi: int) -> list:
    out, start, end = [], None, None
    for m in WORD_RE.finditer(text, lo, hi):
        if start is not None and m.end() - start > CHUNK:
            out.append(("kkma", start, text[start:end]))
            start = None
        if start is None:
            start = m.start()
        end = m.end()
        while end - start > CHUNK:        # one word longer than a chunk
            out.append(("kkma", start, text[start:start + CHUNK]))
            start += CHUNK
    if start is not None:
        out.append(("kkma", start, text[start:end]))
    return out


class KkmaTokenizer(Tokenizer):
    """Worker processes stay up between calls (a JVM takes seconds to start
    and holds ~0.7 GB): ``close()`` ends them, as does the process's exit.
    Calls from several threads are serialised."""
    name = "kkma"

    def __init__(self, pool: Optional[WorkerPool] = None):
        self.pool = pool or WorkerPool()
        _POOLS.add(self.pool)
        self.ray = None              # the RayPool of the last Ray run
        self._ray_address: Optional[str] = None
        self._ray_actors: Optional[int] = None
        self._version: Optional[str] = None
        self._lock = threading.RLock()

    @property
    def version(self) -> str:
        if self._version is None:
            from tagger.tokenizers.align import ALIGN_VERSION
            try:
                konlpy = metadata.version("konlpy")
            except metadata.PackageNotFoundError:
                konlpy = "none"
            self._version = f"{ALIGN_VERSION}.p1/konlpy-{konlpy}"
        return self._version

    def tokenize(self, text: str) -> list[Token]:
        return self.tokenize_many([text], cache=False).tokens[0]

    def close(self) -> None:
        with self._lock:
            self.pool.close()
            if self.ray is not None:
                self.ray.close()

    def use_ray(self, address: Optional[str], actors: Optional[int] = None) -> None:
        """Analyse on the Ray cluster at ``address`` (``auto``, ``local``,
        ``HOST:PORT``) with ``actors`` actors (default: one per CPU there);
        ``None``: back to ``TAGGER_RAY_ADDRESS``, else local workers."""
        self._ray_address, self._ray_actors = address, actors

    def _pool_for(self, workers: int) -> tuple:
        """``(pool, size)`` for a run: Kkma actors on Ray when an address is
        set (``size`` 0: one per cluster CPU), else the local worker processes."""
        try:
            address = self._ray_address or ray_address()
            actors = self._ray_actors or ray_actors()
        except SettingError as err:
            raise TaggerError(str(err)) from None
        if not address:
            return self.pool, max(1, workers)
        try:
            from tagger.tokenizers.ray_pool import ray_pool
        except ImportError as err:
            raise TaggerError(f"Ray address {address!r} set but ray cannot be imported ({err})") from None
        self.ray = ray_pool(address)
        _POOLS.add(self.ray)
        return self.ray, actors or 0

    def tokenize_many(self, texts: Sequence[str], *, cache: bool = True, workers: int = 1,
                      progress: Progress = None, timeout: Optional[float] = None) -> TokenizeResult:
        """``analyzed`` counts the sentences analysed now (neither cache hits
        nor blank ones); identical texts are analysed once."""
        with self._lock:
            return self._tokenize_many(texts, cache, workers, progress, timeout)

    def _tokenize_many(self, texts, cache, workers, progress, timeout) -> TokenizeResult:
        t0 = time.perf_counter()
        slots, tokens, notes = slots_of(texts)
        store = TokenCache() if cache else None
        batch: list = []
        try:
            todo, hits = from_cache(store, self.name, self.version, slots, tokens, notes)
            analyzed = sum(len(slots[t]) for t in todo)
            done = len(texts) - analyzed
            if progress:
                progress(done, len(texts))
            for text, toks, reason, keep in self._analyse(todo, workers, timeout or DEFAULT_TIMEOUT):
                done += place(slots[text], toks, reason, tokens, notes)
                if store is not None and keep:
                    batch.append((text_key(text), encode_tokens(toks), reason or None))
                    if len(batch) >= 256:
                        store.put_many(self.name, self.version, batch)
                        batch = []
                if progress:
                    progress(done, len(texts))
        finally:
            if store is not None:
                store.put_many(self.name, self.version, batch)
                store.close()
        return TokenizeResult(tokens, sorted(notes.items()), time.perf_counter() - t0,
                              hits, analyzed)

    def _analyse(self, texts: list[str], workers: int, timeout: float):
        """Yield ``(text, tokens, reason, cacheable)`` per text, in completion
        order; the Kkma pieces of every text go through the worker pool (or
        the Ray cluster's), which is picked only when there is work."""
        pending: dict[int, _Pending] = {}
        if not texts:
            return
        pool, size = self._pool_for(workers)

        def jobs():
            for n, text in enumerate(texts):
                pending[n] = item = _Pending(text)
                for k, (kind, _, piece) in enumerate(item.pieces):
                    if kind == "kkma":
                        yield (n, k), piece

        for (n, k), status, payload in pool.run(jobs(), size, timeout):
            pending[n].settle(k, status, payload)
            for m in [m for m, item in pending.items() if item.left == 0]:
                yield pending.pop(m).assemble()
        for item in pending.values():
            yield item.assemble()


class _Pending:
    """One sentence on its way through the pool."""

    def __init__(self, text: str):
        self.text = text
        self.pieces, self.reasons = plan(text)
        self.results: dict[int, object] = {}
        self.left = sum(kind == "kkma" for kind, _, _ in self.pieces)
        self.keep = True             # cacheable

    def settle(self, k: int, status: str, payload) -> None:
        self.results[k] = payload    # token rows, or the failure (a str)
        self.left -= 1
        if status != "ok":
            self.reasons.append(payload)
            # Kkma exceptions are deterministic; time-outs and deaths are not
            self.keep = self.keep and status == "error" and "OutOfMemory" not in payload

    def assemble(self) -> tuple:
        text, toks = self.text, []
        for k, (kind, off, piece) in enumerate(self.pieces):
            if kind == "run":
                toks.append(Token(piece, off, off + len(piece), piece, "UN"))
            elif isinstance(self.results[k], str):
                toks += fallback_tokens(piece, off)
            else:
                toks += [Token(text[off + s:off + e], off + s, off + e, f, p)
                         for s, e, f, p in self.results[k]]
        return text, toks, "; ".join(dict.fromkeys(self.reasons)), self.keep


class CharKkmaTokenizer(CharFeatureTokenizer):
    """Characters carrying the features of the Kkma morpheme covering them."""
    name = "char+kkma"
