"""What the doccano and Label Studio readers share: UTF-16 code units <->
code points, the check of one span against its text, the cut-inside-a-character
warning and the overlap rule.

Offsets in this workbench are code points (Python string indices). A span
that carries its own surface (Label Studio's ``value.text``) is taken in code
points when ``text[start:end]`` equals it, else converted from UTF-16 code
units when that slice equals it, else refused: never a silently shifted span.
Overlapping spans: the first (by start, then the longer) is kept, a later one
that overlaps it is dropped with a warning (sentences hold non-overlapping spans).
"""
from __future__ import annotations

import unicodedata

from tagger.core import Span

JSON_FORMATS = ("doccano", "labelstudio")


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def utf16_len(text: str) -> int:
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def has_astral(text: str) -> bool:
    return any(ord(c) > 0xFFFF for c in text)


def utf16_to_cp(text: str, offset: int) -> int | None:
    """The code-point index of a UTF-16 offset, or None when it is out of
    range or falls between the two halves of a surrogate pair."""
    if not is_int(offset) or offset < 0:
        return None
    units = 0
    for i, c in enumerate(text):
        if units == offset:
            return i
        units += 2 if ord(c) > 0xFFFF else 1
        if units > offset:
            return None
    return len(text) if units == offset else None


def cp_to_utf16(text: str, offset: int) -> int:
    return utf16_len(text[:offset])


def valid_cp(text: str, start, end) -> bool:
    return is_int(start) and is_int(end) and 0 <= start < end <= len(text)


def utf16_span(text: str, start, end) -> tuple[int, int] | None:
    """``(start, end)`` in code points of a UTF-16 span, or None."""
    a, b = utf16_to_cp(text, start), utf16_to_cp(text, end)
    return (a, b) if a is not None and b is not None and a < b else None


def resolve(text: str, start, end, surface) -> tuple[tuple[int, int] | None, str]:
    """``((start, end), how)`` in code points, ``how`` ``"cp"`` or ``"utf16"``;
    ``(None, cause)`` when the span cannot be placed. ``surface``: the span's
    own text (None: offsets are code points, unproven)."""
    if not is_int(start) or not is_int(end):
        return None, f"offsets {start!r}, {end!r} are not integers"
    if start >= end:
        return None, f"empty or reversed span [{start}, {end})"
    if surface is None:
        if valid_cp(text, start, end):
            return (start, end), "cp"
        return None, f"span [{start}, {end}) is outside the text ({len(text)} characters)"
    if not isinstance(surface, str):
        return None, f"its text {surface!r} is not a string"
    if valid_cp(text, start, end) and text[start:end] == surface:
        return (start, end), "cp"
    cp = utf16_span(text, start, end)
    if cp is not None and text[cp[0]:cp[1]] == surface:
        return cp, "utf16"
    found = repr(text[start:end]) if valid_cp(text, start, end) else "outside the text"
    return None, (f"span [{start}, {end}) does not match its text {surface!r}: the text there is "
                  f"{found} in code points, and no UTF-16 reading gives it either (shifted offsets?)")


def _joins(c: str) -> bool:
    """A character that belongs to the one before it (combining mark, Hangul
    medial or final jamo, variation selector, ZWJ, emoji modifier)."""
    o = ord(c)
    return (bool(unicodedata.combining(c)) or 0x1160 <= o <= 0x11FF or 0xD7B0 <= o <= 0xD7FF
            or 0xFE00 <= o <= 0xFE0F or o == 0x200D or 0x1F3FB <= o <= 0x1F3FF
            or unicodedata.category(c) == "Mc")


def cuts_character(text: str, start: int, end: int) -> bool:
    """The span begins or ends inside a user-perceived character (between an
    NFD syllable's jamo, before a combining mark)."""
    return any(0 < i < len(text) and _joins(text[i]) for i in (start, end))


def drop_overlaps(spans: list[Span]) -> tuple[list[Span], list[tuple[Span, Span]]]:
    """Sorted non-overlapping spans and ``(dropped, kept)`` pairs: the first by
    start (the longer on a tie) is kept, a later overlapping one dropped."""
    kept: list[Span] = []
    dropped = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end, s.label)):
        if kept and span.start < kept[-1].end:
            dropped.append((span, kept[-1]))
        else:
            kept.append(span)
    return kept, dropped


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1
