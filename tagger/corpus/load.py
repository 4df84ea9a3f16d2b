"""Corpora: loading (encoding and format detection), writing back byte for
byte, and the per-unit view (units, gold BIO tags) the models train on."""
from __future__ import annotations

import codecs
import os
from dataclasses import dataclass, field, replace as dc_replace
from pathlib import Path

from tagger.corpus.formats import read_lines
from tagger.corpus.jsonformats import JSON_FORMATS, detect_json, read_json, write_json
from tagger.core.units import units as unit_offsets
from tagger.corpus.write import write_lines
from tagger.corpus.tags import is_tag, spans_to_tags
from tagger.core import Problem, Sentence, TaggerError, files

FORMATS = ("klue", "conll", "sentence-tags", "text-label", "text", "doccano", "labelstudio")
SCHEMES = ("bio", "plain")  # entity tags (BIO/BIOES/BILOU) or per-unit labels (POS)
_TAGGED = ("klue", "conll", "sentence-tags")
GRANULARITY = {"klue": "char", "conll": "word", "sentence-tags": "word", "doccano": "char", "labelstudio": "char"}
_DETECT_LINES = 2000


@dataclass
class Corpus:
    path: str
    format: str
    encoding: str
    sentences: list[Sentence]
    problems: list[Problem] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    @property
    def granularity(self) -> str | None:
        return GRANULARITY.get(self.format)

    @property
    def scheme(self) -> str:
        """``plain`` (per-unit labels such as POS, one span per unit) or ``bio``."""
        return "plain" if self.meta.get("scheme") == "plain" else "bio"

    def entity_types(self) -> list[str]:
        return sorted({span.label for s in self.sentences for span in s.spans})

    def has_errors(self) -> bool:
        return any(p.level == "error" for p in self.problems)

    def units(self, sentence: Sentence) -> list[tuple[int, int]]:
        """Every character (spaces too) for klue, else whitespace words."""
        return unit_offsets(sentence.text, "char" if self.granularity == "char" else "word")

    def gold_tags(self, sentence: Sentence) -> list[str]:
        """Plain BIO, prefix-style tags over ``units(sentence)`` (for a
        ``plain`` corpus: its own per-unit labels)."""
        return spans_to_tags(self.units(sentence), sentence.spans, "plain" if self.scheme == "plain" else "BIO")

    def replace(self, sentences) -> "Corpus":
        """Same path, format, encoding and meta; new sentences, no problems
        (the load's problems describe the old sentences)."""
        return dc_replace(self, sentences=list(sentences), problems=[], meta=dict(self.meta))


def _check_format(fmt: str, path) -> None:
    if fmt not in FORMATS:
        raise TaggerError(f"{path}: unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")


def _votes(lines: list[str]) -> dict[str, int]:
    votes = dict.fromkeys(("char", "conll", "st", "st_bad", "multi", "tl", "char_any", "cols"), 0)
    for line in lines:
        parts = line.split("\t")
        last = parts[-1]
        if len(parts) >= 2 and parts[0].strip() and _one_word(parts[0]) and _one_word(last):
            votes["cols"] += 1
            votes["char_any"] += len(parts) == 2 and len(parts[0]) == 1
        if len(parts) == 2 and len(parts[0]) == 1 and is_tag(last):
            votes["char"] += 1
        if len(parts) >= 2 and parts[0].strip() and not any(c.isspace() for c in parts[0]) and is_tag(last):
            votes["conll"] += 1
        if len(parts) != 2 or not parts[0].strip():
            continue
        tags = last.split()
        tagged = bool(tags) and all(is_tag(t) for t in tags)
        if tagged and len(tags) == len(parts[0].split()):
            votes["st"] += 1
            votes["multi"] += len(tags) > 1
        elif tagged:
            votes["st_bad"] += 1  # tag count off: still sentence-tags, reported on reading
        elif len(last.strip()) <= 40:
            votes["tl"] += 1
    return votes


def _one_word(field: str) -> bool:
    return bool(field) and not any(c.isspace() for c in field)


def _blocks(lines: list[str]) -> bool:
    """Blank lines separate groups of data lines (one unit per line)."""
    data = [bool(line.strip()) for line in lines]
    while data and not data[-1]:
        data.pop()
    return any(not d for d in data) and sum(data) >= 1.5 * (1 + data.count(False))


def detect_format(text: str) -> str:
    """Best guess among FORMATS from the first lines of decoded text."""
    lines = [line.rstrip("\r") for line in text.split("\n", _DETECT_LINES)[:_DETECT_LINES]]
    json_format = detect_json(text, lines)
    if json_format:
        return json_format
    if any(line.startswith("## ") and "\t" in line for line in lines):
        return "klue"
    data = [line for line in lines if line.strip() and not line.startswith("#")]
    if not data:
        return "text"
    votes, enough = _votes(data), 0.8 * len(data)
    if votes["char"] >= enough:
        return "klue"
    if votes["st"] >= enough and votes["multi"]:
        return "sentence-tags"
    if votes["conll"] >= enough:
        return "conll"
    if votes["st"] >= enough or (votes["multi"] and votes["st"] + votes["st_bad"] >= enough):
        return "sentence-tags"
    if votes["cols"] >= enough and _blocks(lines):  # one unit per line, labels not BIO (POS)
        return "klue" if votes["char_any"] >= enough else "conll"
    if votes["tl"] >= enough:
        return "text-label"
    return "text"


def detect_scheme(lines: list[str], fmt: str) -> str:
    """``plain`` when at least 5 tags were read and under 20% of them are
    BIO-shaped (a POS corpus has next to none; a BIO corpus with typos keeps
    its entity reading, and its bad tags are reported)."""
    if fmt not in _TAGGED:
        return "bio"
    tags = []
    for line in lines[:_DETECT_LINES]:
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        last = line.split("\t")[-1]
        tags.extend(last.split() if fmt == "sentence-tags" else [last])
    bio = sum(map(is_tag, tags))
    return "plain" if len(tags) >= 5 and bio < 0.2 * len(tags) else "bio"


def _per_line(raw: bytes, codec: str, path) -> tuple[str, list[Problem]]:
    lines, problems = [], []
    for n, chunk in enumerate(raw.split(b"\n"), 1):
        try:
            lines.append(chunk.decode(codec))
        except UnicodeDecodeError:
            problems.append(Problem(str(path), n, "error", "undecodable bytes"))
            lines.append(chunk.decode(codec, errors="replace"))
    return "\n".join(lines), problems


def _decode(raw: bytes, path, encoding: str | None):
    """``(text, encoding, bom, problems)``: UTF-8 (BOM or not), else CP949,
    else the one with fewer bad lines, each bad line an error."""
    bom = raw.startswith(codecs.BOM_UTF8)
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise TaggerError(f"{path}: unknown encoding {encoding!r}") from None
        codecs_ = ["utf-8" if name == "utf-8-sig" else name]
    else:
        codecs_ = ["utf-8"] if bom else ["utf-8", "cp949"]
    bom = bom and codecs_[0] == "utf-8"
    body = raw[len(codecs.BOM_UTF8):] if bom else raw
    for codec in codecs_:
        try:
            return body.decode(codec), codec, bom, []
        except UnicodeDecodeError:
            pass
    tries = [(_per_line(body, codec, path), codec) for codec in codecs_]
    (text, problems), codec = min(tries, key=lambda t: len(t[0][1]))
    return text, codec, bom, problems


def _mixed_newlines(text: str, path) -> list[Problem]:
    """A warning on the first bare LF of a CRLF file: writing it back makes every line CRLF."""
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if not line.endswith("\r"):
            return [Problem(str(path), n, "warning", "line ends with LF in a file of CRLF lines; "
                            "written back, every line ends with CRLF")]
    return []


def load_corpus(path, format: str | None = None, encoding: str | None = None,
                scheme: str | None = None, annotator=None) -> Corpus:
    """Read a corpus. Content problems land in ``corpus.problems``; only an
    unreadable path raises TaggerError. ``scheme`` (``bio``/``plain``) is
    detected from the tags when not given; ``annotator``: whose Label Studio
    annotation to read (``completed_by``; default the latest)."""
    if format is not None:
        _check_format(format, path)
    if scheme is not None and scheme not in SCHEMES:
        raise TaggerError(f"{path}: unknown tag scheme {scheme!r} (expected one of {', '.join(SCHEMES)})")
    p = Path(path)
    if p.is_dir():
        raise TaggerError(f"{path}: is a directory, not a corpus file")
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise TaggerError(f"{path}: no such file") from None
    except OSError as err:
        raise TaggerError(f"{path}: cannot read ({err.strerror or err})") from None
    text, codec, bom, problems = _decode(raw, path, encoding)
    newline = "\r\n" if "\r\n" in text else "\n"
    if newline == "\r\n":
        problems += _mixed_newlines(text, path)
        text = text.replace("\r\n", "\n")
    fmt = format or detect_format(text)
    lines = text.split("\n")
    final_newline = len(lines) > 1 and lines[-1] == ""
    if final_newline:
        lines.pop()
    plain = (scheme or detect_scheme(lines, fmt)) == "plain" and fmt in _TAGGED
    if fmt in JSON_FORMATS:
        sentences, more, meta = read_json(text, fmt, str(path), annotator)
    else:
        sentences, more, meta = read_lines(lines, fmt, str(path), plain)
    meta.update(bom=bom, newline=newline, final_newline=final_newline)
    problems = sorted(problems + more, key=lambda p: p.line)
    if not text.strip():
        problems.insert(0, Problem(str(path), 0, "error", "empty file"))
    elif not sentences:
        problems.append(Problem(str(path), 0, "error", "no sentences found"))
    return Corpus(str(path), fmt, codec, sentences, problems, meta)


def dumps_corpus(corpus: Corpus) -> bytes:
    """The corpus in its own format, encoding, newline style and layout."""
    meta = {"scheme": "BIO", "style": "prefix", **corpus.meta}
    if corpus.format in JSON_FORMATS:
        lines = write_json(corpus.sentences, corpus.format)
    else:
        lines = write_lines(corpus.sentences, corpus.format, meta)
    newline = meta.get("newline", "\n")
    text = newline.join(lines) + (newline if meta.get("final_newline", True) else "")
    try:
        data = text.encode(corpus.encoding)
    except UnicodeEncodeError as err:
        bad = err.object[err.start:err.end]
        raise TaggerError(f"{corpus.path}: {bad!r} cannot be written in {corpus.encoding}") from None
    return (codecs.BOM_UTF8 if meta.get("bom") else b"") + data


def _mode(target: Path) -> int:
    """The target's permissions, or the umask's default for a new file."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0o22)
        os.umask(mask)
        return 0o666 & ~mask


def write_corpus(corpus: Corpus, path) -> None:
    """Write atomically (``core.files``): a temp file beside ``path`` with the
    target's permissions, fsync, then rename."""
    target = Path(path)
    try:
        files.atomic_write(target, dumps_corpus(corpus), mode=_mode(target))
    except OSError as err:
        raise TaggerError(f"{path}: cannot write ({err.strerror or err})") from None


def new_corpus(sentences, format: str, path: str = "<memory>", scheme: str = "bio") -> Corpus:
    """A corpus to write fresh sentences (e.g. predictions): UTF-8, LF, no
    BOM, plain BIO prefix tags, no file header; klue and conll files end with
    a blank line."""
    _check_format(format, path)
    block = format in ("klue", "conll")
    meta = {"bom": False, "newline": "\n", "final_newline": True, "header": [],
            "tail": [""] if block else [], "scheme": "plain" if scheme == "plain" else "BIO",
            "style": "prefix"}
    if format == "conll":
        meta["ncols"] = 2
    return Corpus(path, format, "utf-8", list(sentences), [], meta)
