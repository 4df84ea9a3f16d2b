"""Classification metrics on plain label lists (numpy only), shared by the
classifier's ``evaluate`` (models) and ``tagger.scoring``, which exports
them: the models may not import ``scoring`` (it pulls in the corpus layer
and seqeval), so the one implementation sits below both. Also Cohen's kappa
between two annotators' labels of the same items."""
from __future__ import annotations

from collections import Counter
from typing import Optional, Sequence

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


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> Optional[float]:
    """Cohen's kappa of two annotators' labels of the same items:
    ``(p_o - p_e) / (1 - p_e)``, ``p_o`` the share of items labelled alike,
    ``p_e`` the agreement expected by chance from each annotator's own label
    distribution, ``sum over labels of p_a(l) * p_b(l)``. Computed in integers,
    ``(n * agree - S) / (n^2 - S)`` with ``S = sum of count_a(l) * count_b(l)``,
    so one rounding. When ``p_e = 1`` (both gave every item one and the same
    label) they agree on everything and nothing is left to chance-correct:
    1.0 (where sklearn gives nan). None for no items."""
    if len(a) != len(b):
        raise ValueError(f"kappa needs two labels per item: {len(a)} and {len(b)} labels")
    n = len(a)
    if not n:
        return None
    agree = sum(x == y for x, y in zip(a, b))
    count_b = Counter(b)
    chance = sum(k * count_b[label] for label, k in Counter(a).items())
    return 1.0 if chance == n * n else (n * agree - chance) / (n * n - chance)
