"""Label Studio's JSON export (a list of tasks), read and written.

A task's text is ``data.text`` (else the single string field of ``data``);
its entities are the ``result`` items of one annotation: the one by
``annotator`` (``completed_by``: an id or an email) when given, else the latest
(``updated_at``/``created_at``, else the last), cancelled ones skipped. Each
item's ``value`` holds ``start``, ``end``, ``text`` and ``labels`` (the first
label is taken). ``predictions`` (the latest) become ``meta["suggestions"]``
(spans). Offsets are checked against ``value.text``: code points, else UTF-16
code units (converted), else the span is refused (``interchange.resolve``).
Problems name the task: ``PATH:LINE`` of the line where it starts, ``task ID``.

Writing keeps each task as read (its ``id``, other ``data`` fields,
``predictions``, other annotations and the chosen one's other result items)
and puts the sentence's spans, in code points with a matching ``text``, into
the chosen annotation (a new one when there was none): Label Studio's editor
counts Text offsets in code points since its emoji fix.
"""
from __future__ import annotations

import json

from tagger.core import Problem, Sentence, Span
from tagger.corpus.interchange import cuts_character, drop_overlaps, line_of, resolve

FROM, TO = "label", "text"  # Label Studio's NER template: <Labels name="label" toName="text">


def _positions(text: str) -> list[tuple[object, int]]:
    """``(task, line)`` of each task of a parsed-valid JSON list (or one task)."""
    dec = json.JSONDecoder()
    i = len(text) - len(text.lstrip())
    if text[i:i + 1] != "[":
        return [(dec.raw_decode(text, i)[0], line_of(text, i))]
    out, i, line, counted = [], i + 1, line_of(text, i), i   # lines counted up to ``counted``
    while True:
        while text[i:i + 1].isspace():
            i += 1
        if text[i:i + 1] in ("]", ""):
            return out
        task, end = dec.raw_decode(text, i)
        line, counted = line + text.count("\n", counted, i), i
        out.append((task, line))
        i = end
        while text[i:i + 1].isspace():
            i += 1
        i += text[i:i + 1] == ","


def _span_item(item) -> bool:
    value = item.get("value") if isinstance(item, dict) else None
    return isinstance(value, dict) and "labels" in value and "start" in value


def _latest(items: list[tuple[int, dict]]):
    if not items:
        return None
    return max(items, key=lambda ia: (str(ia[1].get("updated_at") or ia[1].get("created_at") or ""), ia[0]))[0]


def _by(ann: dict, annotator: str) -> bool:
    who = ann.get("completed_by")
    ids = [who.get("id"), who.get("email")] if isinstance(who, dict) else [who]
    return str(annotator) in [str(x) for x in ids if x is not None]


class _Task:
    def __init__(self, task: dict, n: int, index: int, report):
        self.task, self.n, self.report = task, n, report
        tid = task.get("id")
        self.name = f"task {tid if tid is not None else f'#{index}'}"
        self.utf16 = 0

    def problem(self, level: str, message: str) -> None:
        self.report(self.n, level, f"{self.name}: {message}")

    def text(self):
        data = self.task.get("data")
        if not isinstance(data, dict):
            self.problem("error", 'no "data" object; task skipped')
            return None, None
        key = "text" if isinstance(data.get("text"), str) else None
        strings = [k for k, v in data.items() if isinstance(v, str)]
        key = key or (strings[0] if len(strings) == 1 else None)
        if key is None:
            self.problem("error", f"no data.text and {len(strings)} string fields in data (which is the text?); skipped")
            return None, None
        if not data[key].strip():
            self.problem("error", f"empty data.{key}; task skipped")
            return None, None
        return data[key], key

    def spans(self, text: str, result, strict: bool) -> list[Span]:
        """Spans of a result list; problems are errors (``strict``, the
        annotation) or warnings (a prediction)."""
        level, what = ("error", "span") if strict else ("warning", "prediction span")
        spans = []
        for item in result if isinstance(result, list) else []:
            if not _span_item(item):
                continue
            value = item["value"]
            labels = value.get("labels")
            if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x.strip() for x in labels):
                self.problem(level, f"{what} [{value.get('start')}, {value.get('end')}) has no label "
                             f"(labels {labels!r}); dropped")
                continue
            where, how = resolve(text, value.get("start"), value.get("end"), value.get("text"))
            if where is None:
                self.problem(level, f"{how}; {what} {labels[0]!r} refused")
                continue
            if strict and len(labels) > 1:
                self.problem("warning", f"span {list(where)} has {len(labels)} labels {labels}; the first is taken")
            if strict and cuts_character(text, *where):
                self.problem("warning", f"span {list(where)} {labels[0]!r} begins or ends inside a character")
            self.utf16 += strict and how == "utf16"
            spans.append(Span(where[0], where[1], labels[0]))
        kept, dropped = drop_overlaps(spans)
        for span, other in dropped:
            self.problem("warning", f"{what} [{span.start}, {span.end}) {span.label!r} overlaps [{other.start}, "
                         f"{other.end}) {other.label!r}; the later one is dropped")
        return kept

    def annotation(self, annotator):
        key = "annotations" if "annotations" in self.task or "completions" not in self.task else "completions"
        anns = self.task.get(key, [])
        if not isinstance(anns, list):
            self.problem("error", f'"{key}" is not a list; read with no entities')
            return key, None
        live = [(i, a) for i, a in enumerate(anns) if isinstance(a, dict) and not a.get("was_cancelled")]
        if annotator is not None:
            live = [(i, a) for i, a in live if _by(a, annotator)]
        return key, _latest(live)

    def sentence(self, annotator) -> tuple[Sentence | None, bool]:
        """The task's sentence and whether it has an annotation."""
        text, text_key = self.text()
        if text is None:
            return None, False
        key, chosen = self.annotation(annotator)
        meta = {"task": self.task, "text_key": text_key, "ann_key": key, "chosen": chosen}
        spans = []
        if chosen is not None:
            result = self.task[key][chosen].get("result")
            spans = self.spans(text, result, True)
            first = next((it for it in result or [] if _span_item(it)), None)
            if first is not None:
                meta["names"] = [first.get("from_name", FROM), first.get("to_name", TO)]
        preds = self.task.get("predictions")
        if isinstance(preds, list):
            latest = _latest([(i, p) for i, p in enumerate(preds) if isinstance(p, dict)])
            if latest is not None:
                meta["suggestions"] = self.spans(text, preds[latest].get("result"), False)
        tid = self.task.get("id")
        return Sentence(text, spans, id=None if tid is None else str(tid), line=self.n, meta=meta), chosen is not None


def read_labelstudio(text: str, path: str, annotator=None):
    """``(sentences, problems, meta)`` of a Label Studio JSON export."""
    problems: list[Problem] = []

    def report(line: int, level: str, message: str) -> None:
        problems.append(Problem(path, line, level, message))

    meta = {"header": [], "tail": [], "scheme": "BIO", "style": "prefix"}
    try:
        json.loads(text)
    except ValueError as err:
        report(getattr(err, "lineno", 0), "error", f"not valid JSON ({getattr(err, 'msg', err)}, "
               f"column {getattr(err, 'colno', '?')})")
        return [], problems, meta
    except RecursionError:
        report(0, "error", "JSON nested too deeply")
        return [], problems, meta
    sentences, unannotated, utf16 = [], [], []
    for index, (task, n) in enumerate(_positions(text)):
        if not isinstance(task, dict):
            report(n, "error", f"task #{index} is not a JSON object; skipped")
            continue
        try:
            json.dumps(task, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            report(n, "error", f"task #{index}: unpaired surrogate (\\udXXX) in the task; skipped")
            continue
        reader = _Task(task, n, index, report)
        sentence, annotated = reader.sentence(annotator)
        if sentence is not None:
            sentences.append(sentence)
            if not annotated:
                unannotated.append(reader)
            if reader.utf16:
                utf16.append(reader)
    if unannotated:
        who = f" by {annotator}" if annotator is not None else ""
        report(unannotated[0].n, "warning", f"{len(unannotated)} task(s) have no annotation{who} (first: "
               f"{unannotated[0].name}); read with no entities")
    if utf16:
        report(utf16[0].n, "warning", f"offsets of {sum(r.utf16 for r in utf16)} span(s) are UTF-16 code units, as "
               f"their text proves (first: {utf16[0].name}); converted to code points")
    problems.sort(key=lambda p: p.line)
    return sentences, problems, meta


def _item(span: Span, text: str, names, ident: str) -> dict:
    value = {"start": span.start, "end": span.end, "text": text[span.start:span.end], "labels": [span.label]}
    return {"id": ident, "from_name": names[0], "to_name": names[1], "type": "labels", "value": value}


def _task_out(sentence: Sentence, number: int) -> dict:
    meta = sentence.meta
    task = dict(meta.get("task") or {})
    data = dict(task.get("data") if isinstance(task.get("data"), dict) else {})
    data[meta.get("text_key", "text")] = sentence.text
    task["data"] = data
    names = meta.get("names", [FROM, TO])
    result = [_item(s, sentence.text, names, f"s{number}-{i}") for i, s in enumerate(sorted(sentence.spans))]
    key, chosen = meta.get("ann_key", "annotations"), meta.get("chosen")
    anns = list(task.get(key) or []) if isinstance(task.get(key, []), list) else []
    if chosen is not None and chosen < len(anns):
        ann = dict(anns[chosen])
        others = [it for it in ann.get("result") or [] if not _span_item(it)]
        anns[chosen] = {**ann, "result": result + others}
    elif result or "task" not in meta:
        anns.append({"result": result, "was_cancelled": False})
    task[key] = anns
    if "task" not in meta and meta.get("suggestions"):
        task["predictions"] = [{"result": [_item(s, sentence.text, names, f"p{number}-{i}")
                                           for i, s in enumerate(meta["suggestions"])]}]
    return task


def write_labelstudio(sentences) -> list[str]:
    """The JSON list of tasks, two-space indented, as lines."""
    tasks = [_task_out(s, i + 1) for i, s in enumerate(sentences)]
    return json.dumps(tasks, ensure_ascii=False, indent=2).split("\n")


def looks_like_labelstudio(text: str) -> bool:
    s = text.lstrip(" \t\r\n\ufeff")
    if s.startswith("["):
        s = s[1:].lstrip()
    return s.startswith("{") and '"data"' in s
