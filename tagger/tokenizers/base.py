"""What every tokenizer shares: the result type, the base class, the
script-run fallback tokenization and entity boundary coverage."""
from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from tagger.core import Token

Progress = Optional[Callable[[int, int], None]]


@dataclass
class TokenizeResult:
    tokens: list[list[Token]]                 # same order as the texts
    fallbacks: list[tuple[int, str]] = field(default_factory=list)  # (index, reason)
    seconds: float = 0.0
    cache_hits: int = 0
    analyzed: int = 0


class Tokenizer:
    """Base class. Subclasses set ``name``/``version`` and implement
    :meth:`tokenize`; the default :meth:`tokenize_many` just loops."""
    name = "?"
    version = "0"

    def tokenize(self, text: str) -> list[Token]:
        raise NotImplementedError

    def tokenize_many(self, texts: Sequence[str], *, cache: bool = True, workers: int = 1,
                      progress: Progress = None, timeout: Optional[float] = None) -> TokenizeResult:
        t0 = time.perf_counter()
        out = []
        total = len(texts)
        step = max(1, total // 100)
        for i, text in enumerate(texts):
            out.append(self.tokenize(text))
            if progress and ((i + 1) % step == 0 or i + 1 == total):
                progress(i + 1, total)
        return TokenizeResult(out, [], time.perf_counter() - t0, 0, total)

    def close(self) -> None:
        """Release whatever the tokenizer holds (worker processes)."""

    def __repr__(self) -> str:
        return f"<tokenizer {self.name} v{self.version}>"


def script_of(ch: str) -> str:
    """Coarse script class used to split fallback tokens: hangul, latin,
    digit, other letters, or punct (anything else)."""
    o = ord(ch)
    if 0xAC00 <= o <= 0xD7A3 or 0x3131 <= o <= 0x318E or 0x1100 <= o <= 0x11FF:
        return "hangul"
    if ch.isdigit():
        return "digit"
    if ch.isalpha():
        name = unicodedata.name(ch, "")
        return "latin" if "LATIN" in name else "letter"
    return "punct"


def fallback_tokens(text: str, offset: int = 0, pos: str = "UN") -> list[Token]:
    """Whitespace words split further wherever the script changes
    (Hangul / Latin / digit / other letters / punctuation runs)."""
    out: list[Token] = []
    start, kind = None, None
    for i, ch in enumerate(text):
        k = None if ch.isspace() else script_of(ch)
        if start is not None and k != kind:
            piece = text[start:i]
            out.append(Token(piece, offset + start, offset + i, piece, pos))
            start = None
        if k is not None and start is None:
            start, kind = i, k
    if start is not None:
        piece = text[start:]
        out.append(Token(piece, offset + start, offset + len(text), piece, pos))
    return out


def entity_boundary_coverage(sentences, token_lists) -> dict:
    """How many gold entity spans a tokenization can express: a span is
    covered when some token starts at its start and some token ends at its
    end. ``{"entities": n, "covered": k, "coverage": k / n}`` (1.0 for n == 0)."""
    n = k = 0
    for sent, toks in zip(sentences, token_lists, strict=True):
        starts = {t.start for t in toks}
        ends = {t.end for t in toks}
        for span in sent.spans:
            n += 1
            k += span.start in starts and span.end in ends
    return {"entities": n, "covered": k, "coverage": k / n if n else 1.0}
