"""Sentence classifiers over the workspace: the report of a classifier on a
``text-label`` dataset (accuracy, macro F1, per-class table, confusion
matrix) and labels with probabilities for free text (the Demo page)."""
from __future__ import annotations

from tagger.workspace import models as ws_models
from tagger.core import TaggerError
from tagger.workspace.memo import Memo
from tagger.workspace.store import Workspace

CLASSIFIER = ("classifier",)
_EVALS = Memo("classifier evaluations", size=32)


def labelled_datasets(ws: Workspace) -> list[dict]:
    return [d for d in ws.datasets() if d["format"] == "text-label"]


def evaluation(ws: Workspace, model_id, dataset_id) -> dict:
    """``score_labels`` of the classifier on the dataset, plus ``unknown``
    (gold labels the model never saw) and table-ready ``rows``."""
    row = ws_models.model_row(ws, model_id, kinds=CLASSIFIER)
    d = ws.dataset(dataset_id)
    if d["format"] != "text-label":
        raise TaggerError(f"{d['name']} is {d['format']}, not text-label (TEXT<TAB>LABEL): nothing to score")
    return _EVALS.get((str(ws.root), row["id"], d["id"]), lambda: _evaluate(ws, row, d))


def _evaluate(ws: Workspace, row: dict, d: dict) -> dict:
    corpus = ws.corpus(d["id"])
    if corpus.has_errors() or not corpus.sentences:
        raise TaggerError(f"{d['name']} has errors or no sentences (see its validation report on the Data page)")
    model = ws_models.load(ws, row["id"], kinds=CLASSIFIER)
    out = model.evaluate(corpus.sentences)
    out["unknown"] = sorted({s.label for s in corpus.sentences} - set(model.labels))
    out["rows"] = [{"label": lab, "precision": c["precision"], "recall": c["recall"], "F1": c["f1"],
                    "support": c["support"]} for lab, c in out["per_class"].items()]
    out.update(model_id=row["id"], dataset_id=d["id"], tokenizer=row["tokenizer"])
    return out


def classify(ws: Workspace, model_id, texts: list[str]) -> list[dict]:
    """Per text: ``text``, ``label`` and ``probs`` (label -> probability), best first."""
    texts = [t for t in texts if t.strip()]
    if not texts:
        return []
    out = ws_models.load(ws, model_id, kinds=CLASSIFIER).predict(texts)
    for r in out:
        r["probs"] = dict(sorted(r["probs"].items(), key=lambda kv: -kv[1]))
    return out
