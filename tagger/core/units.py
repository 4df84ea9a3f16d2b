"""The units of a text and the projection between character spans and unit
tags, both ways: the one place for both.

A corpus is scored and edited on its own units: every character (spaces
included) for character-level corpora (``klue``), whitespace-separated words
for word-level ones (``conll``, ``sentence-tags``); ``units``/``unit_tokens``
give them, ``snap`` fits spans to them.

Gold spans become BIO tags on tokens (a token takes the entity it overlaps);
predicted token tags become character spans again (an entity runs from its
first token's start to its last token's end), so every tokenizer is scored on
the corpus's own units.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from typing import Optional, Sequence

from tagger.core.types import Span, Token

_SENT_END = re.compile(r"(?<=[.!?。？！])\s+")


def spans_to_token_tags(tokens: Sequence[Token], spans: Sequence[Span]) -> list[str]:
    tags = ["O"] * len(tokens)
    starts = [t.start for t in tokens]
    for span in spans:
        # tokens overlapping [span.start, span.end): token.end > start and token.start < end
        i = max(bisect_left(starts, span.start) - 1, 0)
        first = True
        while i < len(tokens) and tokens[i].start < span.end:
            tok = tokens[i]
            if tok.end > span.start and tags[i] == "O":
                tags[i] = ("B-" if first else "I-") + span.label
                first = False
            i += 1
    return tags


def token_tags_to_spans(tokens: Sequence[Token], tags: Sequence[str],
                        scores: Optional[Sequence[float]] = None) -> list[tuple[Span, float]]:
    """BIO tags over tokens -> (Span, score) pairs; an ``I-X`` with no ``X`` open
    starts an entity (conlleval's repair). The score is the mean confidence of
    the entity's tokens (1.0 when no scores are given)."""
    out: list[tuple[Span, float]] = []
    open_ = None  # [label, first index, last index]

    def close():
        if open_ is None:
            return
        label, i, j = open_
        start, end = tokens[i].start, tokens[j].end
        if out and start < out[-1][0].end:          # overlapping tokens (했 = 하+었)
            start = out[-1][0].end
        if start < end:
            conf = sum(scores[i:j + 1]) / (j - i + 1) if scores is not None else 1.0
            out.append((Span(start, end, label), float(conf)))

    for k, tag in enumerate(tags):
        prefix, label = (tag[:1], tag[2:]) if tag != "O" else ("O", None)
        if prefix == "I" and open_ is not None and open_[0] == label:
            open_[2] = k
            continue
        close()
        open_ = [label, k, k] if prefix in ("B", "I") else None
    close()
    return out


WORD_RE = re.compile(r"\S+")   # a word: a maximal run of non-space characters


def char_units(text: str) -> list[tuple[int, int]]:
    """Every character, spaces included: ``(i, i + 1)``."""
    return [(i, i + 1) for i in range(len(text))]


def word_units(text: str) -> list[tuple[int, int]]:
    """Offsets of the whitespace-separated words (maximal non-space runs)."""
    return [m.span() for m in WORD_RE.finditer(text)]


def units(text: str, granularity: Optional[str]) -> list[tuple[int, int]]:
    """The units a span is drawn over and scored on, as ``(start, end)``
    code-point offsets (never UTF-16 positions): maximal non-space runs for
    ``"word"`` (conll, sentence-tags), else every code point, spaces too (klue)."""
    return word_units(text) if granularity == "word" else char_units(text)


def unit_tokens(text: str, granularity: Optional[str]) -> list[Token]:
    """``units`` as tokens (their surface text included)."""
    return [Token(text[s:e], s, e) for s, e in units(text, granularity)]


def unit_tags(text: str, spans: Sequence[Span], granularity: Optional[str]) -> list[str]:
    """BIO tags of the spans over the text's units."""
    return spans_to_token_tags(unit_tokens(text, granularity), spans)


def snap(text: str, spans: Sequence[Span], granularity: Optional[str]) -> list[Span]:
    """Spans as the units can express them: unchanged (sorted) for characters;
    for words, each span grows to the whole words it touches."""
    if granularity != "word":
        return sorted(spans)
    toks = unit_tokens(text, "word")
    return [s for s, _ in token_tags_to_spans(toks, unit_tags(text, spans, "word"))]


def split_sentences(text: str) -> list[str]:
    """Lines, and sentences within a line after . ! ? followed by a space."""
    out = []
    for line in str(text or "").splitlines():
        out.extend(p.strip() for p in _SENT_END.split(line) if p.strip())
    return out


# ---- corpus units <-> code-point offsets (the span editor's one conversion) ----------
def span_from_units(units: Sequence[tuple[int, int]], first: int, last: int) -> tuple[int, int]:
    """``(start, end)`` code-point offsets of the units ``first..last``
    (inclusive, either order): the first unit's start to the last one's end,
    so whatever lies between them (spaces, tabs) is part of the span."""
    first, last = int(first), int(last)
    if first > last:
        first, last = last, first
    if not 0 <= first <= last < len(units):
        raise IndexError(f"units {first}..{last} are not within 0..{len(units) - 1}")
    return units[first][0], units[last][1]


def units_of_span(units: Sequence[tuple[int, int]], start: int, end: int) -> Optional[tuple[int, int]]:
    """``(first, last)`` indices of the units a ``[start, end)`` span overlaps,
    or ``None`` when it overlaps none (a span over spaces only)."""
    hit = [i for i, (a, b) in enumerate(units) if a < end and start < b]
    return (hit[0], hit[-1]) if hit else None
