"""Tokenizers: ``char``, ``eojeol``, ``kkma`` (morphemes aligned to the text),
``char+kkma`` (characters with Kkma features), ``kiwi`` (Kiwi morphemes, with
Kiwi's own offsets) and ``char+kiwi``.

    tok = get_tokenizer("kkma")
    res = tok.tokenize_many(texts, workers=2, progress=lambda done, total: ...)
    res.tokens, res.fallbacks, res.cache_hits

Importing this package never imports konlpy, jpype or kiwipiepy: Kkma runs in
worker subprocesses started on first use, Kiwi is loaded on first use.
"""
from __future__ import annotations

from tagger.core import TaggerError
from tagger.tokenizers.base import TokenizeResult, Tokenizer, entity_boundary_coverage, fallback_tokens
from tagger.tokenizers.kiwi import CharKiwiTokenizer, KiwiTokenizer
from tagger.tokenizers.kkma import CharKkmaTokenizer, KkmaTokenizer
from tagger.tokenizers.simple import CharTokenizer, EojeolTokenizer

TOKENIZERS = ("char", "eojeol", "kkma", "char+kkma", "kiwi", "char+kiwi")
_INSTANCES: dict[str, Tokenizer] = {}

__all__ = ["TOKENIZERS", "TokenizeResult", "Tokenizer", "entity_boundary_coverage",
           "fallback_tokens", "get_tokenizer"]


def get_tokenizer(name: str) -> Tokenizer:
    """The shared instance of tokenizer ``name`` (one Kkma worker pool per
    process, whichever of ``kkma``/``char+kkma`` asks for it)."""
    if name not in TOKENIZERS:
        raise TaggerError(f"unknown tokenizer {name!r} (choose from {', '.join(TOKENIZERS)})")
    if name not in _INSTANCES:
        if name == "char":
            _INSTANCES[name] = CharTokenizer()
        elif name == "eojeol":
            _INSTANCES[name] = EojeolTokenizer()
        elif name == "kkma":
            _INSTANCES[name] = KkmaTokenizer()
        elif name == "kiwi":
            _INSTANCES[name] = KiwiTokenizer()
        elif name == "char+kiwi":
            _INSTANCES[name] = CharKiwiTokenizer(get_tokenizer("kiwi"))
        else:
            _INSTANCES[name] = CharKkmaTokenizer(get_tokenizer("kkma"))
    return _INSTANCES[name]
