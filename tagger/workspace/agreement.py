"""Two annotators compared, and their disagreements adjudicated.

``agreement`` compares reviewers A and B over the sentences both annotated
(``annotators.annotations``: accepted or corrected by both): span F1 (overall
and per type), Cohen's kappa over the corpus's units (each unit's entity type
or O; ``tagger.scoring.annotator_agreement``) and the sentences whose spans
differ.

An adjudicator settles a sentence by picking one side (``pick``), merging
both (``merge``: the agreeing spans, the one-sided ones that conflict with
nothing, and, for each conflict, the side they choose) or writing any spans
(``edit``). Each records an *adjudicated version*: a correction row by the
adjudicator that says how it was decided (``versions``), in one ``adjudicate``
action, so ``status.undo_last(adjudicator)`` or ``undo_adjudication`` takes it
back. The adjudicated version wins over every correction, in
``Workspace.corpus(corrected=True)`` and so in the export."""
from __future__ import annotations

import json
from typing import Optional, Sequence

from tagger.core import Span, TaggerError
from tagger.scoring import annotator_agreement
from tagger.workspace import versions
from tagger.workspace.annotators import annotations
from tagger.workspace.status import clean_reviewer
from tagger.workspace.store import Workspace, spans_to_json

SIDES = ("a", "b")


def agreement(ws: Workspace, dataset_id, a: str, b: str) -> dict:
    """Reviewers ``a`` and ``b`` over the sentences both annotated: ``f1``,
    ``per_type``, span counts ``a``/``b``/``both`` (``span_agreement``),
    ``kappa``, ``observed``, ``units``, ``sentences`` (compared), and
    ``reviewers`` (the two names), ``compared``/``only_a``/``only_b`` (sentence
    indices), ``disagreements`` [{"index", "text", "a", "b", "adjudicated"}]
    and ``disagreeing`` (their number). F1 and kappa are None when the two
    have no sentence in common."""
    did = ws.dataset(dataset_id)["id"]
    who = (clean_reviewer(a), clean_reviewer(b))
    ann_a, ann_b = annotations(ws, did, who[0]), annotations(ws, did, who[1])
    both = sorted(set(ann_a) & set(ann_b))
    corpus = ws.corpus(did)
    texts = [corpus.sentences[i].text for i in both]
    report = annotator_agreement(texts, [ann_a[i] for i in both], [ann_b[i] for i in both],
                                 "char" if corpus.granularity == "char" else "word")
    done = ws.adjudicated(did)
    report["disagreements"] = [{"index": both[k], "text": texts[k], "a": ann_a[both[k]], "b": ann_b[both[k]],
                                "adjudicated": both[k] in done} for k in report.pop("disagree")]
    report.update(disagreeing=len(report["disagreements"]), reviewers=list(who), compared=both,
                  only_a=sorted(set(ann_a) - set(ann_b)), only_b=sorted(set(ann_b) - set(ann_a)))
    return report


# ---- merging two annotations (pure) ---------------------------------------------------
def _overlaps(x: Span, y: Span) -> bool:
    return x.start < y.end and y.start < x.end


def merge_spans(a: Sequence[Span], b: Sequence[Span]) -> tuple[list[Span], list[dict]]:
    """A's and B's spans of one sentence merged: ``(merged, conflicts)``.
    ``merged``: the spans both have, plus the spans only one has that overlap
    no span of the other. ``conflicts``: the remaining one-sided spans (each
    overlaps a span of the other side, perhaps one both have), grouped by
    overlap into ``{"a": [...], "b": [...]}`` (a side may be empty) in text
    order; ``resolve`` takes one choice per group."""
    sa, sb = set(a), set(b)
    only = [(s, "a") for s in sa - sb] + [(s, "b") for s in sb - sa]
    other = {"a": sb, "b": sa}
    clash = sorted((p for p in only if any(_overlaps(p[0], o) for o in other[p[1]])), key=lambda p: p[0])
    merged = sorted((sa & sb) | {s for s, side in only if (s, side) not in clash})
    groups: list[list[tuple[Span, str]]] = []
    for p in clash:  # a group: the conflicting spans linked by overlaps
        group = [p]
        for g in [g for g in groups if any(_overlaps(p[0], q[0]) for q in g)]:
            group += g
            groups.remove(g)
        groups.append(group)
    groups.sort(key=lambda g: min(g)[0])
    return merged, [{side: sorted(s for s, w in g if w == side) for side in SIDES} for g in groups]


def resolve(merged: Sequence[Span], conflicts: Sequence[dict], choices: Sequence[Optional[str]]) -> list[Span]:
    """``merged`` plus, for each conflict, the spans of the side chosen for it
    (``"a"``, ``"b"``, or None: neither); one choice per conflict."""
    if len(choices) != len(conflicts):
        raise TaggerError(f"{len(conflicts)} conflicting spans to settle, {len(choices)} choices given")
    out = set(merged)
    for conflict, side in zip(conflicts, choices):
        if side is not None and side not in SIDES:
            raise TaggerError(f"{str(side)[:20]!r} is not a side (a, b or none)")
        out.update(conflict[side] if side else ())
    return sorted(out)


# ---- recording an adjudicated version ----------------------------------------------------
def adjudicate(ws: Workspace, dataset_id, index: int, spans, adjudicator: Optional[str],
               how: str = "edit", reviewers: Sequence[str] = ()) -> int:
    """Record ``spans`` as sentence ``index``'s adjudicated version by
    ``adjudicator`` (``how``: pick, merge or edit, from ``reviewers``'
    annotations); returns its correction version."""
    if how not in ("pick", "merge", "edit"):
        raise TaggerError(f"{str(how)[:20]!r} is not a way to adjudicate (pick, merge or edit)")
    did, index = ws.sentence(dataset_id, index)
    who = clean_reviewer(adjudicator)
    note = json.dumps({"how": how, "reviewers": [clean_reviewer(r) for r in reviewers]}, ensure_ascii=False)
    with ws.db(write=True) as c:
        action = versions.log_action(c, did, index, who, versions.ADJUDICATE)
        return versions.insert_correction(c, did, index, spans_to_json(spans), who, action, note)


def edit(ws: Workspace, dataset_id, index: int, spans, adjudicator: Optional[str],
         reviewers: Sequence[str] = ()) -> int:
    """Adjudicate sentence ``index`` with any ``spans`` (the adjudicator's own edit)."""
    return adjudicate(ws, dataset_id, index, spans, adjudicator, "edit", reviewers)


def _annotation(ws: Workspace, did: str, index: int, reviewer: str) -> list[Span]:
    mine = annotations(ws, did, reviewer)
    if index not in mine:
        raise TaggerError(f"{clean_reviewer(reviewer)} has not reviewed sentence {index}: nothing to take")
    return mine[index]


def pick(ws: Workspace, dataset_id, index: int, reviewer: str, adjudicator: Optional[str]) -> int:
    """Adjudicate sentence ``index`` with ``reviewer``'s annotation of it."""
    did, index = ws.sentence(dataset_id, index)
    return adjudicate(ws, did, index, _annotation(ws, did, index, reviewer), adjudicator, "pick", [reviewer])


def conflicts(ws: Workspace, dataset_id, index: int, a: str, b: str) -> tuple[list[Span], list[dict]]:
    """``merge_spans`` of reviewers ``a``'s and ``b``'s annotations of sentence ``index``."""
    did, index = ws.sentence(dataset_id, index)
    return merge_spans(_annotation(ws, did, index, a), _annotation(ws, did, index, b))


def merge(ws: Workspace, dataset_id, index: int, a: str, b: str, adjudicator: Optional[str],
          choices: Sequence[Optional[str]] = ()) -> int:
    """Adjudicate sentence ``index`` with the merge of ``a``'s and ``b``'s
    annotations, each conflict settled by ``choices`` (see ``resolve``)."""
    merged, clashes = conflicts(ws, dataset_id, index, a, b)
    return adjudicate(ws, dataset_id, index, resolve(merged, clashes, choices), adjudicator, "merge", [a, b])


def adjudications(ws: Workspace, dataset_id) -> dict[int, dict]:
    """``{index: {"spans", "adjudicator", "how", "reviewers", "at", "version"}}``:
    the current adjudicated version of every adjudicated sentence."""
    return ws.adjudicated(dataset_id)


def undo_adjudication(ws: Workspace, dataset_id, index: int) -> bool:
    """Take back the latest adjudicated version of sentence ``index`` (an
    earlier one, if any, is current again); False when it has none."""
    did, index = ws.sentence(dataset_id, index)
    with ws.db(write=True) as c:
        return versions.undo_latest_adjudication(c, did, index)
