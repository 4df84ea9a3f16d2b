"""Silver part-of-speech corpora: Kkma's analysis of raw text, turned into a
character-level corpus whose "entities" are morphemes labelled with their POS
(``B-NNG``/``I-NNG`` per character, spaces ``O``). A char tagger trained on it
learns Kkma's segmentation and tagging; its token accuracy against Kkma on
held-out text is the measure.

    sentences = silver_pos(texts)                       # list[Sentence]
    write_corpus(new_corpus(sentences, "klue"), "pos.tsv")

A character that two morphemes share (``했`` = 하 + 었) carries the first one's
POS: character-level POS cannot say more, and the morpheme-level analysis is
what Kkma itself is for.

``unit_pos_tags`` gives the same kind of tag, from Kiwi, for the units of any
tokenizer: the targets of the tagger's auxiliary POS loss (``aux_pos_weight``).
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from tagger.core.units import char_units
from tagger.corpus.tags import tags_to_spans
from tagger.core import Sentence, Token


def char_pos_tags(tokens: Sequence[Token]) -> list[str]:
    """BIO tags per character from ``char+kkma`` tokens (feats = form, POS, B/I/E/S/O)."""
    tags = []
    for tok in tokens:
        pos, where = tok.feats[1], tok.feats[2]
        if where == "O":
            tags.append("O")
        else:
            tags.append(f"{'B' if where in ('B', 'S') else 'I'}-{pos}")
    return tags


def silver_pos(texts: Sequence[str], progress: Optional[Callable[[int, int], None]] = None,
               workers: int = 1) -> tuple[list[Sentence], dict]:
    """Sentences labelled with Kkma's POS per character, and tokenization
    stats (``fallbacks``: sentences Kkma could not analyse; left out, and counted)."""
    from tagger.tokenizers import get_tokenizer
    texts = [t for t in texts if t.strip()]
    tok = get_tokenizer("char+kkma")
    res = tok.tokenize_many(texts, cache=True, workers=workers, progress=progress)
    out, failed = [], {i for i, _ in res.fallbacks}
    for i, (text, toks) in enumerate(zip(texts, res.tokens)):
        if i in failed:
            continue
        spans, _ = tags_to_spans(char_units(text), char_pos_tags(toks))
        out.append(Sentence(text, spans, id=f"silver-{i:05d}"))
    return out, {"sentences": len(out), "fallbacks": len(res.fallbacks), "cache_hits": res.cache_hits}


def unit_pos_tags(texts: Sequence[str], token_lists: Sequence[Sequence[Token]]) -> list[list[str]]:
    """Kiwi's silver POS for every unit of ``token_lists`` (one list per text):
    the ``B-``/``I-`` POS tag of the character the unit starts on, ``O`` for
    spaces and characters Kiwi leaves uncovered. Kiwi's analyses are cached
    like any tokenization (the ``char+kiwi`` cache entries)."""
    from tagger.tokenizers import get_tokenizer
    kiwi = get_tokenizer("char+kiwi")
    chars = kiwi.tokenize_many(list(texts), cache=True).tokens
    kiwi.close()
    out = []
    for toks, cs in zip(token_lists, chars):
        at = {c.start: tag for c, tag in zip(cs, char_pos_tags(cs))}
        out.append([at.get(t.start, "O") for t in toks])
    return out
