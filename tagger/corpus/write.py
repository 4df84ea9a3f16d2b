"""Writers of the corpus formats: the file's lines for a list of sentences,
regenerating every tag from the spans (in the file's own scheme and style)
and putting back the raw lines the reader kept (header, tail, the lines
between sentences, comments inside one). See formats.py for the readers."""
from __future__ import annotations

from tagger.corpus.formats import BLOCK_FORMATS, is_blank, mark_text
from tagger.core.units import char_units, word_units
from tagger.corpus.tags import spans_to_tags
from tagger.core import Sentence


def _with_inner(body: list[str], sentence: Sentence) -> list[str]:
    inner = sentence.meta.get("inner")
    if not inner:
        return body
    out = []
    by_index: dict[int, list[str]] = {}
    for index, line in inner:
        by_index.setdefault(min(index, len(body)), []).append(line)
    for i, line in enumerate(body):
        out.extend(by_index.get(i, ()))
        out.append(line)
    out.extend(by_index.get(len(body), ()))
    return out


def _klue_lines(sentence: Sentence, number: int, meta: dict) -> list[str]:
    text, spans = sentence.text, sentence.spans
    tags = spans_to_tags(char_units(text), spans, meta["scheme"], meta["style"])
    body = _with_inner([f"{c}\t{t}" for c, t in zip(text, tags)], sentence)
    if sentence.meta.get("no_header"):
        return body
    marked = sentence.meta.get("marked")
    key = [text, [[s.start, s.end, s.label] for s in spans]]
    if marked is None or sentence.meta.get("marked_for") != key:
        marked = mark_text(text, spans)
    sid = sentence.id if sentence.id is not None else f"sent-{number:05d}"
    return [f"## {sid}\t{marked}"] + body


def _conll_lines(sentence: Sentence, meta: dict) -> list[str]:
    units = word_units(sentence.text)
    tags = spans_to_tags(units, sentence.spans, meta["scheme"], meta["style"])
    cols = sentence.meta.get("cols")
    if cols is None or len(cols) != len(units):
        cols = [["_"] * (meta.get("ncols", 2) - 2)] * len(units)
    rows = ["\t".join([sentence.text[s:e], *c, t]) for (s, e), c, t in zip(units, cols, tags)]
    return _with_inner(rows, sentence)


def _line(sentence: Sentence, fmt: str, meta: dict) -> str:
    if fmt == "sentence-tags":
        units = word_units(sentence.text)
        tags = spans_to_tags(units, sentence.spans, meta["scheme"], meta["style"])
        return f"{sentence.text}\t{' '.join(tags)}"
    if fmt == "text-label":
        return f"{sentence.text}\t{sentence.label or ''}"
    return sentence.text


def write_lines(sentences, fmt: str, meta: dict) -> list[str]:
    """The file's lines (without newline chars) for ``sentences``."""
    lines = list(meta.get("header", ()))
    block = fmt in BLOCK_FORMATS
    for i, sentence in enumerate(sentences):
        pre = list(sentence.meta.get("pre", [""] if block and i else []))
        if block and i and not any(is_blank(line) for line in pre):
            pre.insert(0, "")
        lines.extend(pre)
        if fmt == "klue":
            lines.extend(_klue_lines(sentence, i + 1, meta))
        elif fmt == "conll":
            lines.extend(_conll_lines(sentence, meta))
        else:
            lines.append(_line(sentence, fmt, meta))
    lines.extend(meta.get("tail", ()))
    return lines
