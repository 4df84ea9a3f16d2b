"""Evaluation over the workspace: cached predictions of a model on a dataset,
the seqeval report (micro, per type, macro, char-level) with an entity-type
confusion matrix and error kinds, its rows as a table, and several taggers
compared on one dataset."""
from __future__ import annotations

import json
from collections import Counter

from tagger.workspace import models as ws_models
from tagger.scoring import error_counts, score, score_plain
from tagger.core import Sentence, Span, TaggerError
from tagger.core.files import atomic_write
from tagger.workspace.memo import Memo
from tagger.workspace.store import Workspace

MISSED, SPURIOUS = "(missed)", "(spurious)"
ERROR_KINDS = ("boundary", "type", "missed", "spurious")
_EVALS = Memo("tagger evaluations", size=32)


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
    return _EVALS.get(key, lambda: _evaluate(ws, m, d, corrected))


def _evaluate(ws: Workspace, m: dict, d: dict, corrected: bool) -> dict:
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


def compare(ws: Workspace, dataset_id, model_ids, corrected: bool = False) -> tuple[list[dict], dict, list[str]]:
    """Taggers side by side on one dataset: a row per model (its settings, its
    training summary, its scores here), its dev F1 per epoch ``{name: {epoch:
    F1}}``, and why a model could not be scored."""
    rows, curves, problems = [], {}, []
    for m in (m for m in ws_models.models(ws, kinds=("tagger",)) if m["id"] in model_ids):
        s = m["summary"] or {}
        mc = s.get("tagger_config") or {}
        try:
            ev = evaluation(ws, m["id"], dataset_id, corrected)
        except TaggerError as err:
            problems.append(str(err))
            continue
        rows.append({"model": m["id"], "name": m["name"], "tokenizer": m["tokenizer"], "cell": mc.get("rnn_type"),
                     "layers": mc.get("num_layers"), "hidden": mc.get("hidden_size"), "CRF": mc.get("use_crf"),
                     "epochs": s.get("epochs"), "best epoch": s.get("best_epoch"), "dev F1 (training)": s.get("dev_f1"),
                     "F1 here": ev["entity_f1"], "macro F1": ev["macro_f1"], "char macro F1": ev["char_macro_f1"],
                     "device": s.get("device")})
        hist = ws_models.model_json(ws, m["id"]).get("history") or []
        curves[f"{m['name']} ({m['id']})"] = {h["epoch"]: h["dev_f1"] for h in hist}
    return rows, curves, problems
