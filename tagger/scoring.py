"""Scores at the corpus's own granularity: predictions (character spans) are
projected onto the gold units (characters for KLUE, words for CoNLL and
sentence-tags) and scored there with seqeval, so runs with different
tokenizers are compared on the same gold. Sentence classification metrics
(``score_labels``: accuracy, macro F1, per class, confusion) are exported
here too; they live in ``tagger.core.metrics`` so that the classifier model
can score itself without importing this module. Also the agreement between
two annotators of the same sentences (``annotator_agreement``: span F1 and
unit-level Cohen's kappa)."""
from __future__ import annotations

from collections import Counter
from typing import Optional, Sequence

from tagger.core.metrics import cohen_kappa, score_labels
from tagger.core.units import unit_tags, unit_tokens, units
from tagger.core import Sentence, Span

__all__ = ["score", "tag_accuracy", "score_plain", "char_macro_f1", "error_counts",
           "score_labels", "cohen_kappa", "unit_labels", "span_agreement", "annotator_agreement"]


def score(sentences: Sequence[Sentence], predicted: Sequence[Sequence[Span]],
          granularity: Optional[str] = "char") -> dict:
    """seqeval (default, conlleval-compatible mode) micro P/R/F1, per type,
    macro F1, plus KLUE's character-level macro F1 over the labels but ``O``."""
    from seqeval.metrics import classification_report  # pure Python; imported when scoring

    gold = [unit_tags(s.text, s.spans, granularity) for s in sentences]
    pred = [unit_tags(s.text, p, granularity) for s, p in zip(sentences, predicted)]
    report = classification_report(gold, pred, output_dict=True, zero_division=0)
    micro = report.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0})
    per_type = {k: {"precision": v["precision"], "recall": v["recall"], "f1": v["f1-score"],
                    "support": int(v["support"])}
                for k, v in report.items() if not k.endswith(" avg")}
    return {
        "entity_f1": float(micro["f1-score"]),
        "precision": float(micro["precision"]),
        "recall": float(micro["recall"]),
        "macro_f1": float(report["macro avg"]["f1-score"]) if per_type else 0.0,
        "char_macro_f1": char_macro_f1(sentences, predicted),
        "accuracy": tag_accuracy(gold, pred, sentences, granularity),
        "per_type": per_type,
        "sentences": len(sentences),
        "granularity": granularity or "char",
    }


def _content(sentences: Sequence[Sentence], granularity: Optional[str]):
    """Per sentence, the indices of units that are not whitespace."""
    return [[i for i, u in enumerate(unit_tokens(s.text, granularity)) if not u.text.isspace()] for s in sentences]


def tag_accuracy(gold, pred, sentences, granularity) -> float:
    """Share of non-space units whose predicted tag equals the gold tag."""
    right = total = 0
    for g, p, keep in zip(gold, pred, _content(sentences, granularity)):
        right += sum(g[i] == p[i] for i in keep)
        total += len(keep)
    return right / total if total else 0.0


def score_plain(sentences: Sequence[Sentence], predicted: Sequence[Sequence[Span]],
                granularity: Optional[str] = "char") -> dict:
    """Per-unit labels (POS and the like, no BIO): token accuracy and
    per-tag precision/recall/F1 over the non-space units of the corpus."""
    from tagger.corpus.tags import spans_to_tags
    tp, fp, fn, support = Counter(), Counter(), Counter(), Counter()
    right = total = 0
    for s, p, keep in zip(sentences, predicted, _content(sentences, granularity)):
        us = units(s.text, granularity)
        g, q = spans_to_tags(us, s.spans, "plain"), spans_to_tags(us, p, "plain")
        for i in keep:
            support[g[i]] += 1
            if g[i] == q[i]:
                tp[g[i]] += 1
            else:
                fp[q[i]] += 1
                fn[g[i]] += 1
        right += sum(g[i] == q[i] for i in keep)
        total += len(keep)
    per_tag = {}
    for tag in sorted(set(support) | set(fp)):
        prec = tp[tag] / (tp[tag] + fp[tag]) if tp[tag] + fp[tag] else 0.0
        rec = tp[tag] / (tp[tag] + fn[tag]) if tp[tag] + fn[tag] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_tag[tag] = {"precision": prec, "recall": rec, "f1": f1, "support": support[tag]}
    return {"scheme": "plain", "accuracy": right / total if total else 0.0,
            "macro_f1": sum(v["f1"] for v in per_tag.values()) / len(per_tag) if per_tag else 0.0,
            "per_tag": per_tag, "tokens": total, "sentences": len(sentences),
            "granularity": granularity or "char"}


def char_macro_f1(sentences: Sequence[Sentence], predicted: Sequence[Sequence[Span]]) -> float:
    """Macro F1 over character-level BIO labels, ``O`` left out (KLUE's
    character-level metric). Labels are those in the gold or the predictions."""
    tp, fp, fn = Counter(), Counter(), Counter()
    for s, p in zip(sentences, predicted):
        g_tags = unit_tags(s.text, s.spans, "char")
        p_tags = unit_tags(s.text, p, "char")
        for g, q in zip(g_tags, p_tags):
            if g == q:
                tp[g] += 1
            else:
                fp[q] += 1
                fn[g] += 1
    labels = sorted((set(tp) | set(fp) | set(fn)) - {"O"})
    if not labels:
        return 0.0
    f1s = []
    for lab in labels:
        denom = 2 * tp[lab] + fp[lab] + fn[lab]
        f1s.append(2 * tp[lab] / denom if denom else 0.0)
    return sum(f1s) / len(f1s)


def error_counts(sentences: Sequence[Sentence], predicted: Sequence[Sequence[Span]]) -> dict:
    """Entity errors split into boundary, type, missed and spurious."""
    out = Counter(correct=0, boundary=0, type=0, missed=0, spurious=0)
    for s, pred in zip(sentences, predicted):
        gold = set(s.spans)
        pred = set(pred)
        out["correct"] += len(gold & pred)
        g_left, p_left = gold - pred, pred - gold
        for g in g_left:
            same = [p for p in p_left if (p.start, p.end) == (g.start, g.end)]
            over = [p for p in p_left if p.start < g.end and g.start < p.end]
            out["type" if same else "boundary" if over else "missed"] += 1
        for p in p_left:
            if not any(g.start < p.end and p.start < g.end for g in g_left):
                out["spurious"] += 1
    return dict(out)


# ---- two annotators of the same sentences --------------------------------------------
def unit_labels(text: str, spans: Sequence[Span], granularity: Optional[str]) -> list[str]:
    """Each unit's entity type, ``O`` for none: the BIO tags of ``unit_tags``
    without their B-/I- prefix, so kappa asks "which type is this unit" and
    boundaries are left to the span F1 (a unit inside an entity is the same
    label whether it opens it or not)."""
    return [t if t == "O" else t[2:] for t in unit_tags(text, sorted(set(spans)), granularity)]


def _f1(a: set, b: set) -> float:
    """``2|A∩B| / (|A|+|B|)``; 1.0 when neither has any (nothing to disagree on)."""
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 1.0


def span_agreement(a: Sequence[Sequence[Span]], b: Sequence[Sequence[Span]]) -> dict:
    """Span-level F1 between annotators A and B of the same sentences (exact
    start, end and type; symmetric: ``2|A∩B| / (|A|+|B|)``), overall and per
    type (the same formula over that type's spans): ``f1``, ``a``, ``b``,
    ``both`` (span counts) and ``per_type`` {type: the same four}. F1 is 1.0
    when neither marked anything and None for no sentences."""
    sa = {(i, s) for i, spans in enumerate(a) for s in spans}
    sb = {(i, s) for i, spans in enumerate(b) for s in spans}

    def part(x: set, y: set) -> dict:
        return {"f1": _f1(x, y) if len(a) else None, "a": len(x), "b": len(y), "both": len(x & y)}

    types = sorted({s.label for _, s in sa | sb})
    return {**part(sa, sb), "per_type": {t: part({p for p in sa if p[1].label == t},
                                                 {p for p in sb if p[1].label == t}) for t in types}}


def annotator_agreement(texts: Sequence[str], a: Sequence[Sequence[Span]], b: Sequence[Sequence[Span]],
                        granularity: Optional[str]) -> dict:
    """``span_agreement`` plus Cohen's ``kappa`` over every unit of the
    sentences (characters, spaces too, or words: ``units``), each labelled
    with its entity type or ``O`` (``unit_labels``); ``observed`` (the share
    of units labelled alike), ``units``, ``sentences``, and ``disagree``: the
    positions of the sentences whose span sets differ."""
    if not len(texts) == len(a) == len(b):
        raise ValueError(f"{len(texts)} sentences, {len(a)} and {len(b)} annotations")
    la, lb = [], []
    for text, x, y in zip(texts, a, b):
        la += unit_labels(text, x, granularity)
        lb += unit_labels(text, y, granularity)
    same = sum(p == q for p, q in zip(la, lb))
    return {**span_agreement(a, b), "kappa": cohen_kappa(la, lb), "observed": same / len(la) if la else None,
            "units": len(la), "sentences": len(texts),
            "disagree": [i for i, (x, y) in enumerate(zip(a, b)) if set(x) != set(y)]}
