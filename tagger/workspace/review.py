"""Review and correction over the workspace: per-sentence review rows (gold
with corrections, predictions, disagreements, error kinds, confidence) and
filters, token tables, and span edits (pure: they return new span lists).
Scores and predictions come from :mod:`tagger.workspace.evaluation`."""
from __future__ import annotations

from tagger.core.units import snap as units_snap
from tagger.core.units import units
from tagger.core import Span, TaggerError
from tagger.workspace import status
from tagger.workspace.evaluation import (ERROR_KINDS, MISSED, SPURIOUS, predicted_spans, predictions,
                                         sentence_kinds)
from tagger.workspace.store import Workspace, check_id, spans_from_json

__all__ = ["ERROR_KINDS", "KLUE_TYPES", "add_span", "apply_action", "current_spans", "editor_labels",
           "filter_rows", "gold_token_table", "predicted_spans", "predictions", "remove_span", "review_rows",
           "set_label", "snap", "token_table", "unit_offsets"]
KLUE_TYPES = ("PS", "LC", "OG", "DT", "TI", "QT")


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
                     "result": results[i] if results else None,
                     "disagree": bool(results) and set(s.spans) != set(pred),
                     "kinds": sentence_kinds(s.spans, pred) if results else [],
                     "min_conf": min(conf) if conf else None, "corrected": i in fixes,
                     "types": sorted({sp.label for sp in list(s.spans) + pred})})
    return rows


def filter_rows(rows, only_disagreements=False, types=(), kinds=(), lowest_first=False,
                unreviewed_first=False, statuses=None) -> list[dict]:
    """The rows that pass every filter; ``lowest_first`` orders them by their
    lowest token confidence, then ``unreviewed_first`` (with ``statuses``, a
    ``status.statuses()`` result) puts the unreviewed ones first, each group
    keeping that order."""
    out = [r for r in rows if (not only_disagreements or r["disagree"])
           and (not types or set(types) & set(r["types"])) and (not kinds or set(kinds) & set(r["kinds"]))]
    if lowest_first:
        out.sort(key=lambda r: (r["min_conf"] is None, r["min_conf"] if r["min_conf"] is not None else 0))
    if unreviewed_first:
        out = status.unreviewed_first(out, statuses or {})
    return out


def current_spans(ws: Workspace, dataset_id, index: int) -> list[Span]:
    """Sentence ``index``'s spans now, sorted: its latest correction, else the
    corpus's (one sentence: what a fragment rerun needs, not every row)."""
    did = check_id(dataset_id, "d")
    row = ws.one("SELECT spans FROM corrections WHERE dataset_id=? AND sentence=? ORDER BY version DESC LIMIT 1",
                 (did, int(index)))
    if row is not None:
        return sorted(spans_from_json(row["spans"]))
    return sorted(ws.corpus(did).sentences[int(index)].spans)


def editor_labels(types) -> list[str]:
    """The span editor's labels (keys 1–9 in this order): the corpus's KLUE
    types in KLUE order, its other types sorted, then the other KLUE defaults."""
    types = set(types)
    return ([t for t in KLUE_TYPES if t in types] + sorted(types - set(KLUE_TYPES))
            + [t for t in KLUE_TYPES if t not in types])


def apply_action(spans, action: dict, text: str, model_spans, granularity) -> list[Span]:
    """The spans after an editor edit (``label``, ``retype``, ``remove``,
    ``take_model``); ``retype``/``remove`` indices are into ``sorted(spans)``."""
    name = action["action"]
    if name == "label":
        return add_span(sorted(spans), action["start"], action["end"], action["label"])[0]
    if name == "retype":
        return set_label(spans, action["index"], action["label"])
    if name == "remove":
        return remove_span(spans, action["index"])
    if name == "take_model":
        return snap(text, model_spans, granularity)
    raise TaggerError(f"{name!r} is not a span edit")


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
    return units(text, _unit(granularity))


def _unit(granularity) -> str:
    """A corpus's unit for review: characters for klue, words for every other format."""
    return "char" if granularity == "char" else "word"


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
    return units_snap(text, spans, _unit(granularity))


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
