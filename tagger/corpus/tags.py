"""Tag shapes (BIO / BIOES / BILOU, prefix ``B-PS`` or suffix ``PS-B`` style)
and the conversion between per-unit tags and character-offset spans.

A *unit* is a ``(start, end)`` character range of the sentence text: one
character for char-level corpora, one word for word-level ones.
"""
from __future__ import annotations

from bisect import bisect_right

from tagger.core import Span

PREFIXES = ("B", "I", "E", "S", "U", "L")
# IOBES spelling (U = unit, L = last) maps onto BIOES.
_CANON = {"U": "S", "L": "E"}
SCHEMES = ("BIO", "BIOES", "BILOU")
STYLES = ("prefix", "suffix")


def tag_info(tag: str) -> tuple[str, str | None, str | None]:
    """``(prefix, type, style)`` of a tag, prefix as written (``U``/``L`` kept).

    ``"O"`` -> ``("O", None, None)``; untyped ``"I"`` -> ``("I", None, None)``.
    Raises ValueError on any other shape."""
    if tag == "O" or tag == "I":
        return tag, None, None
    if len(tag) >= 3 and not any(c.isspace() for c in tag):
        if tag[0] in PREFIXES and tag[1] == "-":
            return tag[0], tag[2:], "prefix"
        if tag[-1] in PREFIXES and tag[-2] == "-":
            return tag[-1], tag[:-2], "suffix"
    raise ValueError(f"unknown tag shape {tag!r}")


def parse_tag(tag: str) -> tuple[str, str | None]:
    """``("B", "PS")`` for ``B-PS`` or ``PS-B``; ``("O", None)`` for ``O``.

    ``U``/``L`` come back as ``S``/``E``. Raises ValueError on unknown shapes."""
    prefix, typ, _ = tag_info(tag)
    return _CANON.get(prefix, prefix), typ


def is_tag(tag: str) -> bool:
    try:
        tag_info(tag)
    except ValueError:
        return False
    return True


def tags_to_spans(units, tags):
    """Spans from per-unit tags, repairing what conlleval repairs.

    Returns ``(spans, problems)``; each problem is ``(unit index, level,
    message)``. An unknown tag is an error and counts as ``O``; ``I-X`` (or
    ``E-X``) with no ``X`` open starts a new entity (warning); an untyped ``I``
    continues the open entity (warning), or is an error outside one."""
    spans: list[Span] = []
    problems: list[tuple[int, str, str]] = []
    cur = None  # [start, end, type] of the open entity

    def close():
        nonlocal cur
        if cur is not None:
            spans.append(Span(cur[0], cur[1], cur[2]))
            cur = None

    for i, ((start, end), tag) in enumerate(zip(units, tags)):
        try:
            prefix, typ = parse_tag(tag)
        except ValueError as err:
            problems.append((i, "error", f"{err}; treated as O"))
            close()
            continue
        if prefix == "O":
            close()
            continue
        if typ is None:  # untyped I
            if cur is None:
                problems.append((i, "error", "untyped I with no entity open; treated as O"))
                continue
            problems.append((i, "warning", f"untyped I read as I-{cur[2]}"))
            cur[1] = end
            continue
        if prefix in ("I", "E") and (cur is None or cur[2] != typ):
            problems.append((i, "warning", f"{tag} with no entity {typ} open; starts a new entity"))
            close()
            cur = [start, end, typ]
        elif prefix in ("I", "E"):
            cur[1] = end
        else:  # B or S
            close()
            cur = [start, end, typ]
        if prefix == "S" or prefix == "E":
            close()
    close()
    return spans, problems


def _assign(units, spans) -> list[int]:
    """Index of the span covering each unit (-1: none); first span wins."""
    owner = [-1] * len(units)
    ends = [u[1] for u in units]
    order = sorted(range(len(spans)), key=lambda k: (spans[k].start, spans[k].end))
    for k in order:
        span = spans[k]
        i = bisect_right(ends, span.start)
        while i < len(units) and units[i][0] < span.end:
            if owner[i] == -1 and units[i][1] > span.start:
                owner[i] = k
            i += 1
    return owner


def _runs(owner):
    """Maximal runs ``(first, last, span index)`` of units owned by one span."""
    runs = []
    i = 0
    while i < len(owner):
        k = owner[i]
        j = i
        while j + 1 < len(owner) and owner[j + 1] == k:
            j += 1
        if k != -1:
            runs.append((i, j, k))
        i = j + 1
    return runs


def plain_to_spans(units, tags):
    """The ``plain`` scheme (per-unit labels such as POS tags, no BIO): every
    unit whose tag is not ``O`` becomes a span of its own, labelled with the
    tag. Returns ``(spans, problems)`` like :func:`tags_to_spans`."""
    spans, problems = [], []
    for i, ((start, end), tag) in enumerate(zip(units, tags)):
        if not tag or any(c.isspace() for c in tag):
            problems.append((i, "error", f"empty or blank tag {tag!r}; treated as O"))
        elif tag != "O":
            spans.append(Span(start, end, tag))
    return spans, problems


def spans_to_tags(units, spans, scheme: str = "BIO", style: str = "prefix") -> list[str]:
    """Per-unit tags for ``spans``. A unit overlapping a span is inside it
    (for words: the whole word); a unit already taken by an earlier span stays
    with it. Scheme ``plain``: each unit carries its span's label as it is."""
    if scheme == "plain":
        owner = _assign(units, spans)
        return ["O" if k == -1 else spans[k].label for k in owner]
    if scheme not in SCHEMES or style not in STYLES:
        raise ValueError(f"unknown tag scheme/style {scheme!r}/{style!r}")
    single, last = {"BIO": ("B", "I"), "BIOES": ("S", "E"), "BILOU": ("U", "L")}[scheme]
    tags = ["O"] * len(units)
    for first, end, k in _runs(_assign(units, spans)):
        label = spans[k].label
        for i in range(first, end + 1):
            if i == first:
                prefix = single if i == end else "B"
            else:
                prefix = last if i == end else "I"
            tags[i] = f"{prefix}-{label}" if style == "prefix" else f"{label}-{prefix}"
    return tags
