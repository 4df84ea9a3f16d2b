"""The validation report of a corpus: counts and every problem, JSON-able."""
from __future__ import annotations

from collections import Counter

from tagger.core.units import word_units
from tagger.core import Problem


def _span_problems(corpus) -> list[Problem]:
    """Problems of the sentences themselves (spans out of range, overlapping,
    empty): these matter for corpora built or edited in memory."""
    problems = []
    for sentence in corpus.sentences:
        where = (corpus.path, sentence.line)
        if not sentence.text.strip():
            problems.append(Problem(*where, "error", "empty sentence"))
        prev = None
        for span in sorted(sentence.spans):
            if not 0 <= span.start < span.end <= len(sentence.text):
                problems.append(Problem(*where, "error", f"span {span} outside the sentence or empty"))
            elif prev is not None and span.start < prev.end:
                problems.append(Problem(*where, "error", f"span {span} overlaps {prev}"))
            else:
                prev = span
    return problems


def validate(corpus) -> dict:
    """``format, encoding, sentences, tokens, entities {TYPE: count},
    problems [{line, level, message}]`` (plus ``path``, ``labels`` for
    text-label corpora, and ``errors``/``warnings`` counts)."""
    if corpus.granularity is None:
        tokens = sum(len(word_units(s.text)) for s in corpus.sentences)
    else:
        tokens = sum(len(corpus.units(s)) for s in corpus.sentences)
    entities = Counter(span.label for s in corpus.sentences for span in s.spans)
    labels = Counter(s.label for s in corpus.sentences if s.label is not None)
    seen = set(corpus.problems)
    problems = list(corpus.problems) + [p for p in _span_problems(corpus) if p not in seen]
    problems.sort(key=lambda p: p.line)
    levels = Counter(p.level for p in problems)
    return {
        "path": corpus.path,
        "format": corpus.format,
        "encoding": corpus.encoding,
        "sentences": len(corpus.sentences),
        "tokens": tokens,
        "entities": dict(sorted(entities.items())),
        "labels": dict(sorted(labels.items())),
        "problems": [{"line": p.line, "level": p.level, "message": p.message} for p in problems],
        "errors": levels["error"],
        "warnings": levels["warning"],
    }
