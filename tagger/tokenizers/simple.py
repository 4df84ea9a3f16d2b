"""Tokenizers that need no analyser: characters and eojeol (space-separated
words)."""
from __future__ import annotations


from tagger.core.units import WORD_RE
from tagger.core import Token
from tagger.tokenizers.base import Tokenizer



class CharTokenizer(Tokenizer):
    """Every character is a token, whitespace included: KLUE labels a space
    like any other character and some entities start on one."""
    name = "char"
    version = "1"

    def tokenize(self, text: str) -> list[Token]:
        return [Token(ch, i, i + 1) for i, ch in enumerate(text)]


class EojeolTokenizer(Tokenizer):
    """Maximal runs of non-whitespace characters."""
    name = "eojeol"
    version = "1"

    def tokenize(self, text: str) -> list[Token]:
        return [Token(m.group(), m.start(), m.end()) for m in WORD_RE.finditer(text)]
