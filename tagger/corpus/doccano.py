"""doccano's sequence-labelling JSONL, read and written.

One JSON object per line: ``{"text": ..., "label": [[start, end, "TYPE"], ...]}``
(``labels`` is read too, and the newer export's ``"entities": [{"id",
"label", "start_offset", "end_offset"}]``; older exports put the text under
``data``). Every other key (``id``, ``meta``, ``Comments``, ``relations`` ...)
is kept and written back. Offsets are code points; a file whose spans only fit
as UTF-16 code units (some span out of range in code points, every span
valid in UTF-16, astral characters in the text) is read as UTF-16 and
converted, with a warning. Writing gives one line per sentence, code points.
"""
from __future__ import annotations

import json

from tagger.core import Problem, Sentence, Span
from tagger.corpus.interchange import cuts_character, drop_overlaps, has_astral, resolve, utf16_span, valid_cp

_KEYS = ("label", "labels", "entities")


def _encodable(obj) -> bool:
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
        return True
    except (UnicodeEncodeError, ValueError):
        return False


class _Record:
    def __init__(self, n: int, rec: dict, text: str, text_key: str, key: str | None, raw: list):
        self.n, self.rec, self.text, self.text_key, self.key, self.raw = n, rec, text, text_key, key, raw


def _raw_spans(rec: dict, key: str | None) -> tuple[list, str | None]:
    """``[(start, end, label, entity id)]`` of a record, or an error message."""
    if key is None:
        return [], None
    items = rec[key]
    if not isinstance(items, list):
        return [], f'"{key}" is not a list'
    out = []
    for item in items:
        if key == "entities" and isinstance(item, dict):
            out.append((item.get("start_offset"), item.get("end_offset"), item.get("label"), item.get("id")))
        elif key != "entities" and isinstance(item, list) and len(item) == 3:
            out.append((item[0], item[1], item[2], None))
        else:
            shape = '{"start_offset", "end_offset", "label"}' if key == "entities" else "[start, end, TYPE]"
            return [], f'"{key}" item {json.dumps(item, ensure_ascii=False)[:60]} is not {shape}'
    return out, None


def _parse(n: int, line: str, report) -> _Record | None:
    try:
        rec = json.loads(line)
    except (ValueError, RecursionError) as err:
        report(n, "error", f"not JSON ({getattr(err, 'msg', err)}, column {getattr(err, 'colno', '?')}); line skipped")
        return None
    if not isinstance(rec, dict):
        report(n, "error", "not a JSON object; line skipped")
        return None
    text_key = "text" if "text" in rec or "data" not in rec else "data"
    text = rec.get(text_key)
    if not isinstance(text, str) or not text.strip():
        report(n, "error", f'no "{text_key}" string (or an empty one); line skipped')
        return None
    if not _encodable(rec):
        report(n, "error", "unpaired surrogate (\\udXXX) in the record; line skipped")
        return None
    key = next((k for k in _KEYS if k in rec), None)
    raw, bad = _raw_spans(rec, key)
    if bad:
        report(n, "error", f"{bad}; line skipped")
        return None
    return _Record(n, rec, text, text_key, key, raw)


def _utf16_file(records: list[_Record]) -> int:
    """The line of the first span that only fits as UTF-16, when the whole
    file reads as UTF-16 (else 0)."""
    first = 0
    for r in records:
        for start, end, _, _ in r.raw:
            if not valid_cp(r.text, start, end):
                if utf16_span(r.text, start, end) is None or not has_astral(r.text):
                    return 0
                first = first or r.n
            elif utf16_span(r.text, start, end) is None:
                return 0
    return first


def _sentence(r: _Record, utf16: bool, report) -> Sentence:
    spans, ids = [], []
    for start, end, label, eid in r.raw:
        if not isinstance(label, str) or not label.strip():
            report(r.n, "error", f"span [{start}, {end}) has no type (label {label!r}); span dropped")
            continue
        where = utf16_span(r.text, start, end) if utf16 else None
        if where is None:
            where, cause = resolve(r.text, start, end, None)
            if where is None:
                report(r.n, "error", f"{cause}; span {label!r} dropped")
                continue
        span = Span(where[0], where[1], label)
        if cuts_character(r.text, span.start, span.end):
            report(r.n, "warning", f"span {list(where)} {label!r} begins or ends inside a character "
                   f"(between jamo or before a combining mark)")
        spans.append(span)
        if eid is not None:
            ids.append([span.start, span.end, label, eid])
    kept, dropped = drop_overlaps(spans)
    for span, other in dropped:
        report(r.n, "warning", f"span [{span.start}, {span.end}) {span.label!r} overlaps "
               f"[{other.start}, {other.end}) {other.label!r}; the later one is dropped")
    rid = r.rec.get("id")
    meta = {"record": r.rec, "text_key": r.text_key, "key": r.key or "label"}
    if ids:
        meta["ids"] = ids
    return Sentence(r.text, kept, id=str(rid) if rid is not None else None, line=r.n, meta=meta)


def read_doccano(text: str, path: str):
    """``(sentences, problems, meta)`` of a doccano JSONL file's decoded text."""
    problems: list[Problem] = []

    def report(line: int, level: str, message: str) -> None:
        problems.append(Problem(path, line, level, message))

    records = []
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip():
            record = _parse(n, line, report)
            if record is not None:
                records.append(record)
    utf16 = _utf16_file(records)
    if utf16:
        report(utf16, "warning", "offsets fit only as UTF-16 code units (this span is out of range in "
               "code points, every span is valid in UTF-16): the file's offsets are converted to code points")
    sentences = [_sentence(r, bool(utf16), report) for r in records]
    return sentences, problems, {"header": [], "tail": [], "scheme": "BIO", "style": "prefix"}


def _entity(span: Span, ids: dict) -> dict:
    out = {"id": ids[(span.start, span.end, span.label)]} if (span.start, span.end, span.label) in ids else {}
    out.update(label=span.label, start_offset=span.start, end_offset=span.end)
    return out


def doccano_line(sentence: Sentence) -> str:
    """One JSONL line: the record read (its other keys kept), text and spans
    (code points) from the sentence."""
    rec = dict(sentence.meta.get("record") or {})
    rec[sentence.meta.get("text_key", "text")] = sentence.text
    key = sentence.meta.get("key", "label")
    spans = sorted(sentence.spans)
    if key == "entities":
        ids = {(s, e, lab): eid for s, e, lab, eid in sentence.meta.get("ids", ())}
        rec[key] = [_entity(span, ids) for span in spans]
    else:
        rec[key] = [[span.start, span.end, span.label] for span in spans]
    return json.dumps(rec, ensure_ascii=False)


def write_doccano(sentences) -> list[str]:
    return [doccano_line(s) for s in sentences]


def looks_like_doccano(lines: list[str]) -> bool:
    """Most data lines are JSON objects and one of them has a text string."""
    data = [line.strip() for line in lines if line.strip()]
    if not data or sum(line.startswith("{") for line in data) < 0.8 * len(data):
        return False
    for line in data[:50]:
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(rec, dict) and isinstance(rec.get("text", rec.get("data")), str):
            return True
    return False

