"""Readers of the corpus formats, on decoded text lines (the writers are in formats_write.py).

Every line that carries no data (blank lines, comments, file header lines) is
kept raw so that writing reproduces the file: lines before the first sentence
go to the corpus meta ``header``, lines after the last to ``tail``, the ones
between sentences to the next sentence's ``meta["pre"]``, and comments inside
a sentence to ``meta["inner"]`` as ``[unit index, line]``. Tags are never kept:
writers regenerate them from the spans.
"""
from __future__ import annotations

import re
from collections import Counter

from tagger.corpus.tags import plain_to_spans, spans_to_tags, tag_info, tags_to_spans
from tagger.core import Problem, Sentence, Span
from tagger.core.units import word_units

BLOCK_FORMATS = ("klue", "conll")  # writers: formats_write.py
LINE_FORMATS = ("sentence-tags", "text-label", "text")
def mark_text(text: str, spans) -> str:
    """KLUE's marked sentence: ``<surface:TYPE>`` around every entity."""
    out, pos = [], 0
    for span in spans:
        out.append(text[pos:span.start])
        out.append(f"<{text[span.start:span.end]}:{span.label}>")
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def is_blank(line: str) -> bool:
    return not line.strip() and "\t" not in line


class _Reader:
    """Shared state of one read: problems, tag statistics, the raw lines that
    wait for the next sentence."""

    def __init__(self, path: str, plain: bool = False):
        self.path, self.plain = path, plain
        self.problems: list[Problem] = []
        self.sentences: list[Sentence] = []
        self.pending: list[str] = []
        self.shapes: Counter = Counter()
        self.tagged: list = []

    def report(self, line: int, level: str, message: str) -> None:
        self.problems.append(Problem(self.path, line, level, message))

    def spans(self, units, tags, lines) -> list[Span]:
        """Spans of one sentence; problems land on the units' lines."""
        if self.plain:
            spans, problems = plain_to_spans(units, tags)
            for i, level, message in problems:
                self.report(lines[i], level, message)
            return spans
        for tag in tags:
            try:
                prefix, typ, style = tag_info(tag)
            except ValueError:
                continue
            self.shapes[prefix] += 1
            if style:
                self.shapes[style] += 1
        spans, problems = tags_to_spans(units, tags)
        for i, level, message in problems:
            self.report(lines[i], level, message)
        self.tagged.append((units, tags, lines, spans))
        return spans

    def check_rewrite(self, scheme: str, style: str) -> None:
        """A warning on the first tag that writing back would change (a file that
        mixes schemes or styles), unless that line already has a problem."""
        flagged = {p.line for p in self.problems}
        for units, tags, lines, spans in self.tagged:
            for tag, new, line in zip(tags, spans_to_tags(units, spans, scheme, style), lines):
                if tag != new and line not in flagged:
                    self.report(line, "warning", f"tag {tag!r} mixes tagging schemes or styles "
                                f"(the file reads as {scheme}, {style}); written back as {new!r}")
                    return

    def add(self, sentence: Sentence) -> None:
        sentence.meta["pre"] = self.pending
        self.pending = []
        self.sentences.append(sentence)

    def meta(self) -> dict:
        header = self.sentences[0].meta.pop("pre") if self.sentences else self.pending
        tail = self.pending if self.sentences else []
        scheme = "BIO"
        if self.plain:
            scheme = "plain"
        elif self.shapes["U"] or self.shapes["L"]:
            scheme = "BILOU"
        elif self.shapes["S"] or self.shapes["E"]:
            scheme = "BIOES"
        style = "suffix" if self.shapes["suffix"] > self.shapes["prefix"] else "prefix"
        self.check_rewrite(scheme, style)
        return {"header": header, "tail": tail, "scheme": scheme, "style": style}


class _Block:
    """A sentence being read from a one-unit-per-line format."""

    def __init__(self, line: int, sid=None, marked=None):
        self.line, self.id, self.marked = line, sid, marked
        self.tokens: list[str] = []
        self.tags: list[str] = []
        self.lines: list[int] = []
        self.cols: list[list[str]] = []
        self.inner: list[list] = []


class _BlockReader(_Reader):
    def __init__(self, path: str, fmt: str, plain: bool = False):
        super().__init__(path, plain)
        self.fmt = fmt
        self.block: _Block | None = None
        self.ids: dict[str, int] = {}
        self.ncols = 0

    def read(self, lines: list[str]) -> None:
        for n, line in enumerate(lines, 1):
            if is_blank(line):
                self.finish()
                self.pending.append(line)
            elif self.fmt == "klue" and line.startswith("## ") and "\t" in line:
                self.header(n, line)
            elif line.startswith("#") and (self.fmt == "conll" or line[1:2] != "\t"):
                if self.block is None:
                    self.pending.append(line)
                else:
                    self.block.inner.append([len(self.block.tokens), line])
            else:
                self.data(n, line)
        self.finish()

    def header(self, n: int, line: str) -> None:
        if self.block is not None:
            self.report(n, "warning", "no blank line before this sentence header")
            self.finish()
        sid, marked = line[3:].split("\t", 1)
        if sid in self.ids:
            self.report(n, "warning", f"duplicate sentence id {sid!r} (first at line {self.ids[sid]})")
        else:
            self.ids[sid] = n
        self.block = _Block(n, sid, marked)

    def data(self, n: int, line: str) -> None:
        parts = line.split("\t")
        want = 2 if self.fmt == "klue" else (self.ncols or max(2, len(parts)))
        self.ncols = self.ncols or want
        if len(parts) != want:
            what = "CHAR, TAG" if self.fmt == "klue" else "TOKEN, ..., TAG"
            self.report(n, "error", f"wrong column count: expected {want} ({what}), got {len(parts)}")
        token, tag = parts[0], parts[1 if self.fmt == "klue" else -1] if len(parts) > 1 else "O"
        if not token:
            self.report(n, "error", "empty token; line skipped")
            return
        if self.fmt == "klue" and len(token) > 1:
            self.report(n, "warning", f"{len(token)} characters on one line; each gets the line's tag")
        if self.fmt == "conll" and re.search(r"\s", token):
            self.report(n, "error", "token contains a space")
        if self.block is None:
            self.block = _Block(n)
        self.block.tokens.append(token)
        self.block.tags.append(tag)
        self.block.lines.append(n)
        self.block.cols.append(parts[1:-1])

    def finish(self) -> None:
        block, self.block = self.block, None
        if block is None:
            return
        if not block.tokens:
            self.report(block.line, "error", "empty sentence (no characters or tokens); dropped")
            self.pending.extend(line for _, line in block.inner)
            return
        sep = "" if self.fmt == "klue" else " "
        text = sep.join(block.tokens)
        units, pos = [], 0
        for token in block.tokens:
            units.append((pos, pos + len(token)))
            pos += len(token) + len(sep)
        spans = self.spans(units, block.tags, block.lines)
        sentence = Sentence(text, spans, id=block.id, line=block.line)
        if block.inner:
            sentence.meta["inner"] = block.inner
        if self.fmt == "conll":
            sentence.meta["cols"] = block.cols
        elif block.marked is None:
            sentence.meta["no_header"] = True
        elif mark_text(text, spans) != block.marked:
            self.report(block.line, "warning", "marked text differs from the tags; kept as written")
            sentence.meta["marked"] = block.marked
            sentence.meta["marked_for"] = [text, [[s.start, s.end, s.label] for s in spans]]
        self.add(sentence)


class _LineReader(_Reader):
    """One sentence per line: sentence-tags, text-label, text."""

    def __init__(self, path: str, fmt: str, plain: bool = False):
        super().__init__(path, plain)
        self.fmt = fmt

    def read(self, lines: list[str]) -> None:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                self.pending.append(line)
                continue
            sentence = self.parse(n, line)
            if sentence is not None:
                self.add(sentence)

    def parse(self, n: int, line: str) -> Sentence | None:
        if self.fmt == "text":
            return Sentence(line, line=n)
        parts = line.split("\t")
        if len(parts) != 2:
            second = "TAGS" if self.fmt == "sentence-tags" else "LABEL"
            self.report(n, "error", f"wrong column count: expected 2 (TEXT, {second}), got {len(parts)}; line skipped")
            return None
        text, field = parts
        if not text.strip():
            self.report(n, "error", "empty sentence (empty TEXT field); line skipped")
            return None
        if self.fmt == "text-label":
            if not field.strip():
                self.report(n, "error", "empty label; line skipped")
                return None
            return Sentence(text, label=field, line=n)
        units, tags = word_units(text), field.split()
        if tags and field != " ".join(tags):
            self.report(n, "warning", "extra whitespace in the TAGS field; written back as single spaces")
        if len(tags) != len(units):
            self.report(n, "error", f"tag count {len(tags)} does not match word count {len(units)}")
            tags = (tags + ["O"] * len(units))[:len(units)]
        return Sentence(text, self.spans(units, tags, [n] * len(units)), line=n)


def read_lines(lines: list[str], fmt: str, path: str, plain: bool = False):
    """``(sentences, problems, meta)`` of decoded lines (no newline chars);
    ``plain``: the tags are per-unit labels (POS), not BIO entity tags."""
    reader = (_BlockReader if fmt in BLOCK_FORMATS else _LineReader)(path, fmt, plain)
    reader.read(lines)
    meta = reader.meta()
    if fmt == "conll":
        meta["ncols"] = getattr(reader, "ncols", 0) or 2
    return reader.sentences, reader.problems, meta
