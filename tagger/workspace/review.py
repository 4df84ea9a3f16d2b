"""Evaluation, review and correction over the workspace: cached predictions of
a model on a dataset, the seqeval report with an entity-type confusion matrix
and error kinds, per-sentence review rows and filters, span edits, export of
the corrected corpus (checked by reading it back) and pre-annotation."""
from __future__ import annotations

import json
from collections import Counter

from tagger.workspace import models as ws_models
from tagger.scoring import error_counts, score, score_plain, unit_tags, units
from tagger.core.units import token_tags_to_spans
from tagger.core import Sentence, Span, TaggerError
from tagger.core.files import atomic_write
from tagger.workspace.store import Workspace

MISSED, SPURIOUS = "(missed)", "(spurious)"
ERROR_KINDS = ("boundary", "type", "missed", "spurious")
_EVALS: dict = {}


def predictions(ws: Workspace, model_id, dataset_id) -> list[dict]:
    """``model.predict`` on every sentence of the dataset, cached on disk."""
    m = ws_models.model_row(ws, model_id, kinds=("tagger",))
    d = ws.dataset(dataset_id)
    path = ws.root / "predictions" / m["id"] / f"{d['id']}.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    texts = [s.text for s in ws.corpus(d["id"]).sentences]
    results = ws_models.load(ws, m["id"]).predict(texts) if texts else []
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(results, ensure_ascii=False).encode("utf-8"))
    return results


def predicted_spans(results) -> list[list[Span]]:
    return [[Span(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in results]


def _stamp(ws: Workspace, did: str):
    row = ws.one("SELECT COUNT(*) n, MAX(created) t FROM corrections WHERE dataset_id=?", (did,))
    return row["n"], row["t"]


def evaluation(ws: Workspace, model_id, dataset_id, corrected: bool = False) -> dict:
    """seqeval micro/per-type/macro and char-level macro F1, error kinds and
    the confusion matrix of ``model_id`` on ``dataset_id``."""
    m, d = ws_models.model_row(ws, model_id, kinds=("tagger",)), ws.dataset(dataset_id)
    key = (str(ws.root), m["id"], d["id"], corrected, _stamp(ws, d["id"]) if corrected else None)
    cached = _EVALS.get(key)
    if cached is not None:
        return cached
    corpus = ws.corpus(d["id"], corrected=corrected)
    if corpus.granularity is None:
        raise TaggerError(f"{d['name']} has no entity labels ({corpus.format} format): nothing to score")
    pred = predicted_spans(predictions(ws, m["id"], d["id"]))
    out = score(corpus.sentences, pred, corpus.granularity)
    out["errors"] = error_counts(corpus.sentences, pred)
    out["confusion"] = confusion(corpus.sentences, pred)
    if corpus.scheme == "plain":  # per-unit labels (POS): token accuracy is the headline
        out["plain"] = score_plain(corpus.sentences, pred, corpus.granularity)
    out.update(model_id=m["id"], dataset_id=d["id"], tokenizer=m["tokenizer"])
    if len(_EVALS) > 32:
        _EVALS.clear()
    _EVALS[key] = out
    return out


def report_rows(ev: dict) -> list[dict]:
    """The report as table rows: one per type, then micro, macro, char-level macro."""
    rows = [{"type": t, "precision": s["precision"], "recall": s["recall"], "f1": s["f1"],
             "support": s["support"]} for t, s in sorted(ev["per_type"].items())]
    support = sum(r["support"] for r in rows)
    rows.append({"type": "micro avg", "precision": ev["precision"], "recall": ev["recall"],
                 "f1": ev["entity_f1"], "support": support})
    n = len(ev["per_type"]) or 1
    rows.append({"type": "macro avg", "precision": sum(s["precision"] for s in ev["per_type"].values()) / n,
                 "recall": sum(s["recall"] for s in ev["per_type"].values()) / n, "f1": ev["macro_f1"],
                 "support": support})
    rows.append({"type": "char-level macro F1", "precision": None, "recall": None,
                 "f1": ev["char_macro_f1"], "support": None})
    return rows


def confusion(sentences, predicted) -> dict:
    """``{"labels": [...], "matrix": {gold: {pred: n}}}``: each gold entity is
    paired with the predicted one of the same span, else the most overlapping
    one, else ``(missed)``; unpaired predictions are ``(spurious)``."""
    counts: Counter = Counter()
    for s, pred in zip(sentences, predicted):
        left = sorted(set(pred))
        for g in sorted(s.spans):
            same = [p for p in left if (p.start, p.end) == (g.start, g.end)]
            over = same or [p for p in left if p.start < g.end and g.start < p.end]
            if over:
                p = max(over, key=lambda q: min(q.end, g.end) - max(q.start, g.start))
                left.remove(p)
                counts[g.label, p.label] += 1
            else:
                counts[g.label, MISSED] += 1
        for p in left:
            counts[SPURIOUS, p.label] += 1
    labels = sorted({a for a, _ in counts} | {b for _, b in counts} - {MISSED, SPURIOUS})
    rows = [lab for lab in labels if lab != SPURIOUS] + [SPURIOUS]
    cols = [lab for lab in labels if lab != SPURIOUS and lab != MISSED] + [MISSED]
    return {"rows": rows, "cols": cols,
            "matrix": {r: {c: counts.get((r, c), 0) for c in cols} for r in rows}}


def sentence_kinds(gold, pred) -> list[str]:
    counts = error_counts([Sentence("", list(gold))], [list(pred)])
    return [k for k in ERROR_KINDS if counts.get(k)]


def review_rows(ws: Workspace, dataset_id, model_id=None) -> list[dict]:
    """One row per sentence: gold (corrections applied) and predicted spans,
    whether they disagree, error kinds, lowest token confidence, types."""
    d = ws.dataset(dataset_id)
    corpus = ws.corpus(d["id"], corrected=True)
    fixes = ws.corrections(d["id"])
    results = predictions(ws, model_id, d["id"]) if model_id else None
    rows = []
    for i, s in enumerate(corpus.sentences):
        pred = predicted_spans([results[i]])[0] if results else []
        conf = [t["confidence"] for t in results[i]["tokens"]] if results else []
        rows.append({"index": i, "text": s.text, "gold": list(s.spans), "pred": pred,
                     "disagree": bool(results) and set(s.spans) != set(pred),
                     "kinds": sentence_kinds(s.spans, pred) if results else [],
                     "min_conf": min(conf) if conf else None, "corrected": i in fixes,
                     "types": sorted({sp.label for sp in list(s.spans) + pred})})
    return rows


def filter_rows(rows, only_disagreements=False, types=(), kinds=(), lowest_first=False) -> list[dict]:
    out = [r for r in rows if (not only_disagreements or r["disagree"])
           and (not types or set(types) & set(r["types"])) and (not kinds or set(kinds) & set(r["kinds"]))]
    if lowest_first:
        out.sort(key=lambda r: (r["min_conf"] is None, r["min_conf"] if r["min_conf"] is not None else 0))
    return out


def token_table(result: dict, gold) -> list[dict]:
    """Per model token: surface, form, POS, gold tag, predicted tag, confidence."""
    from tagger.core.units import spans_to_token_tags
    from tagger.core import Token
    toks = [Token(t["text"], t["start"], t["end"]) for t in result["tokens"]]
    gold_tags = spans_to_token_tags(toks, gold)
    return [{"token": t["text"], "form": t.get("form", ""), "pos": t.get("pos", ""), "gold": g,
             "predicted": t["tag"], "confidence": t["confidence"]} for t, g in zip(result["tokens"], gold_tags)]


# ---- span edits (pure: they return new span lists) ----------------------------------
def unit_offsets(text: str, granularity) -> list[tuple[int, int]]:
    """The units a span may be drawn over: characters (klue) or words."""
    return [(u.start, u.end) for u in units(text, "char" if granularity == "char" else "word")]


def set_label(spans, index: int, label: str) -> list[Span]:
    label = _check_label(label)
    spans = sorted(spans)
    spans[index] = Span(spans[index].start, spans[index].end, label)
    return spans


def remove_span(spans, index: int) -> list[Span]:
    spans = sorted(spans)
    del spans[index]
    return spans


def add_span(spans, start: int, end: int, label: str) -> tuple[list[Span], list[Span]]:
    """Add ``[start, end)``; spans it overlaps are replaced. Returns (new spans, replaced)."""
    label = _check_label(label)
    if not start < end:
        raise TaggerError("a span needs at least one character")
    replaced = [s for s in spans if s.start < end and start < s.end]
    return sorted([s for s in spans if s not in replaced] + [Span(start, end, label)]), replaced


def snap(text: str, spans, granularity) -> list[Span]:
    """Spans as the corpus's units can express them (words for word formats)."""
    if granularity == "char":
        return sorted(spans)
    us = units(text, "word")
    return [s for s, _ in token_tags_to_spans(us, unit_tags(text, spans, "word"))]


def _check_label(label: str) -> str:
    label = str(label or "").strip()
    if not label or any(c.isspace() for c in label) or label in ("O", MISSED, SPURIOUS) or label[:2] in ("B-", "I-"):
        raise TaggerError(f"{label!r} is not an entity type (like PS, LC, OG)")
    return label



def gold_token_table(text: str, spans, granularity) -> list[dict]:
    """Without a model: the corpus units with their gold tags."""
    from tagger.core.units import spans_to_token_tags
    from tagger.core import Token
    toks = [Token(text[a:b], a, b) for a, b in unit_offsets(text, granularity)]
    return [{"token": t.text, "gold": g} for t, g in zip(toks, spans_to_token_tags(toks, spans))]
