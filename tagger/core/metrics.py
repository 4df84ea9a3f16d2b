"""Classification metrics on plain label lists (numpy only), shared by the
classifier's ``evaluate`` (models) and ``tagger.scoring``, which exports
them: the models may not import ``scoring`` (it pulls in the corpus layer
and seqeval), so the one implementation sits below both."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def score_labels(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict:
    """Accuracy, macro F1 over the gold and predicted labels, per class, confusion matrix (rows gold)."""
    names = list(labels) + sorted({g for g in gold if g not in labels})
    index = {n: i for i, n in enumerate(names)}
    cm = np.zeros((len(names), len(names)), dtype=np.int64)
    for g, p in zip(gold, pred):
        cm[index[g], index[p]] += 1
    tp, support, predicted = np.diag(cm), cm.sum(1), cm.sum(0)
    per_class = {}
    for i, n in enumerate(names):
        if support[i] == 0 and predicted[i] == 0:
            continue
        prec = tp[i] / predicted[i] if predicted[i] else 0.0
        rec = tp[i] / support[i] if support[i] else 0.0
        per_class[n] = {"precision": float(prec), "recall": float(rec),
                        "f1": float(2 * prec * rec / (prec + rec)) if prec + rec else 0.0, "support": int(support[i])}
    return {"accuracy": float(tp.sum() / max(len(gold), 1)),
            "macro_f1": float(np.mean([c["f1"] for c in per_class.values()])) if per_class else 0.0,
            "per_class": per_class, "confusion": {"labels": names, "matrix": cm.tolist()}, "sentences": len(gold)}
