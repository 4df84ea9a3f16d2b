"""Core data types shared by every part of the engine.

A labelled sentence is its text plus character-offset entity spans (per-unit
labels such as POS are spans too, one per unit); nothing here depends on a
tokenizer.  Offsets are code points of the text as given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


class TaggerError(Exception):
    """A user-facing failure. ``str(err)`` is the whole message: it names the
    file (and line, where there is one) and the cause. The CLI prints it and
    exits 2; the app shows it. Never raise it with a traceback in mind."""


@dataclass(frozen=True, order=True)
class Span:
    start: int  # first character, inclusive
    end: int    # one past the last character
    label: str  # entity type, e.g. "PS"


@dataclass
class Sentence:
    text: str
    spans: list[Span] = field(default_factory=list)  # sorted, non-overlapping
    id: Optional[str] = None      # KLUE sentence id, when the format has one
    label: Optional[str] = None   # sentence label (text-label format)
    line: int = 0                 # 1-based line where the sentence starts
    meta: dict = field(default_factory=dict)  # format-specific round-trip data


@dataclass(frozen=True)
class Problem:
    path: str
    line: int      # 1-based; 0 when the problem is about the whole file
    level: str     # "error" | "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"


@dataclass(frozen=True)
class Token:
    """One unit a tokenizer produced. ``text == sentence_text[start:end]``
    always holds (the surface); ``form`` is the analyzer's normalised form
    (Kkma: ``었`` for the surface ``했``), ``pos`` its part of speech.
    ``feats`` carries extra per-token features (``char+kkma``: the covering
    morpheme's form, its POS and the position in it, B/I/E/S or O)."""
    text: str
    start: int
    end: int
    form: Optional[str] = None
    pos: Optional[str] = None
    feats: tuple = ()
