"""What the morphological analyzers (Kkma, Kiwi) share: filling results from
the cache, placing one analysis on every slot of a repeated sentence, and the
``char+<analyzer>`` tokenizers (characters carrying the covering morpheme's
features)."""
from __future__ import annotations

from typing import Sequence

from tagger.core import Token
from tagger.tokenizers.base import Tokenizer, TokenizeResult
from tagger.tokenizers.cache import decode_tokens, text_key


def slots_of(texts) -> tuple[dict, list, dict]:
    """``(slots, tokens, notes)`` for a batch: the indices of each distinct
    text (analysed once), an empty result list, no notes yet."""
    slots: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        slots.setdefault(text, []).append(i)
    return slots, [None] * len(texts), {}


def place(idx: list[int], toks: list, reason, tokens: list, notes: dict) -> int:
    """Put ``toks`` at every index of ``idx`` (a copy each after the first),
    with ``reason`` as the note where there is one; returns how many."""
    for n, i in enumerate(idx):
        tokens[i] = toks if n == 0 else list(toks)
        if reason:
            notes[i] = reason
    return len(idx)


def from_cache(store, name: str, version: str, slots: dict, tokens: list, notes: dict):
    """Fill what the cache (and blank input) answers; return the texts still
    to analyse and the number of sentences served from the cache."""
    keys = {text: text_key(text) for text in slots} if store else {}
    found = store.get_many(name, version, keys.values()) if store else {}
    todo, hits = [], 0
    for text, idx in slots.items():
        hit = found.get(keys[text]) if found else None
        if hit is not None:
            hits += place(idx, decode_tokens(text, hit[0]), hit[1], tokens, notes)
        elif not text.strip():
            place(idx, [], "", tokens, notes)
        else:
            todo.append(text)
    return todo, hits


def char_features(text: str, morphs: list[Token]) -> list[Token]:
    """One token per character, ``feats = (form, pos, position)`` of the first
    morpheme covering it.  Position: B/I/E/S inside that morpheme; a char the
    next morpheme also covers (했 = 하+었) is marked E (S if the first morpheme
    starts there too), so the morpheme boundary inside it shows; whitespace
    gets ``("<sp>", "<sp>", "O")``, an uncovered char ``("<none>", "<none>", "O")``."""
    first: list = [None] * len(text)
    shared = [False] * len(text)
    for m in morphs:
        for c in range(m.start, m.end):
            if first[c] is None:
                first[c] = m
            elif first[c] is not m:
                shared[c] = True
    out = []
    for c, ch in enumerate(text):
        m = first[c]
        if ch.isspace():
            feats = ("<sp>", "<sp>", "O")
        elif m is None:
            feats = ("<none>", "<none>", "O")
        else:
            if c == m.start:
                where = "S" if (m.end - m.start == 1 or shared[c]) else "B"
            else:
                where = "E" if (c == m.end - 1 or shared[c]) else "I"
            feats = (m.form, m.pos, where)
        out.append(Token(ch, c, c + 1, feats[0], feats[1], feats))
    return out


class CharFeatureTokenizer(Tokenizer):
    """Characters (whitespace included, as ``char``) carrying the features of
    the analyzer's morpheme covering them; shares the analyzer's analyses and
    cache. Subclasses name themselves ``char+<analyzer>``."""

    def __init__(self, analyzer: Tokenizer):
        self.analyzer = analyzer

    @property
    def version(self) -> str:
        return f"{self.analyzer.version}+c1"

    def tokenize(self, text: str) -> list[Token]:
        return char_features(text, self.analyzer.tokenize(text))

    def tokenize_many(self, texts: Sequence[str], **kw) -> TokenizeResult:
        res = self.analyzer.tokenize_many(texts, **kw)
        res.tokens = [char_features(t, toks) for t, toks in zip(texts, res.tokens)]
        return res

    def close(self) -> None:
        self.analyzer.close()
