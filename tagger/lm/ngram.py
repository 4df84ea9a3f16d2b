"""Count-based n-gram LMs (order 1-5): interpolated Kneser-Ney and add-k.

Only the highest-order counts are stored (each padded sentence position's
n-gram): every lower-order count is the sum of its suffix's top-order counts,
because ``<s>`` padding gives every position a full n-gram.

Kneser-Ney (interpolated, one absolute discount per order, D = n1/(n1+2 n2)):

    P_m(w|h) = max(c_m(h w) - D_m, 0)/c_m(h) + D_m N1+(h .)/c_m(h) * P_{m-1}(w|h')

with raw counts at the top order, continuation counts N1+(. g) below it, and
the uniform distribution over the predicted vocabulary under order 1; an
unseen context falls through to the lower order. Add-k uses the top order
only: (c(h w) + k) / (c(h) + k V).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from tagger.core import TaggerError
from tagger.lm.common import LanguageModel, padded_ngrams, predictable
from tagger.models.saving import COUNTS

SMOOTHINGS = ("kn", "addk")


@dataclass(frozen=True)
class NgramConfig:
    order: int = 3
    smoothing: str = "kn"   # kn | addk
    k: float = 0.01         # add-k's pseudo-count


def check_config(cfg: NgramConfig) -> None:
    if not 1 <= cfg.order <= 5:
        raise TaggerError(f"--order {cfg.order}: an n-gram order is 1 to 5")
    if cfg.smoothing not in SMOOTHINGS:
        raise TaggerError(f"unknown smoothing {cfg.smoothing!r} (choose from {', '.join(SMOOTHINGS)})")
    if cfg.k <= 0:
        raise TaggerError(f"--k {cfg.k}: add-k needs k > 0")


def count_ngrams(id_lists: Sequence[Sequence[int]], order: int) -> list[list[int]]:
    """Top-order counts as rows ``[id_1, ..., id_n, count]`` (the stored form)."""
    grams = padded_ngrams(id_lists, order)                               # (N, n)
    if not len(grams):
        return []
    uniq, counts = np.unique(grams, axis=0, return_counts=True)
    return np.concatenate([uniq, counts[:, None]], axis=1).tolist()


class NgramLM(LanguageModel):
    """Saved as ``counts.json``: ``{"order": n, "counts": [[id_1, ..., id_n, count], ...]}``."""
    kind = "ngram"
    CONFIG = NgramConfig
    DATA_FILE, DATA_WHAT = COUNTS, "n-gram counts"

    def __init__(self, cfg: NgramConfig, counts: list[list[int]], vocab, tokenizer, tokenizer_version, meta=None):
        super().__init__(vocab, tokenizer, tokenizer_version, meta)
        check_config(cfg)
        self.cfg, self.counts = cfg, counts
        self.n_pred = int(predictable(len(vocab)).sum())
        self._build()

    def _build(self) -> None:
        n = self.cfg.order
        raw = [Counter() for _ in range(n + 1)]          # raw[m]: m-gram -> count
        for row in self.counts:
            gram, c = tuple(row[:-1]), row[-1]
            for m in range(1, n + 1):
                raw[m][gram[n - m:]] += c
        self.raw = raw
        # KN level m: raw counts at the top, continuation counts below
        self.c = [None] + [self._continuation(raw[m + 1]) for m in range(1, n)] + [raw[n]]
        self.tot, self.types, self.D = [None], [None], [None]
        self.succ = [None]
        for m in range(1, n + 1):
            tot, types, succ = Counter(), Counter(), defaultdict(list)
            for g, c in self.c[m].items():
                tot[g[:-1]] += c
                types[g[:-1]] += 1
                succ[g[:-1]].append((g[-1], c))
            self.tot.append(tot), self.types.append(types), self.succ.append(succ)
            coc = Counter(min(c, 3) for c in self.c[m].values())
            n1, n2 = coc[1], coc[2]
            self.D.append(min(max(n1 / (n1 + 2 * n2) if n1 + n2 else 0.5, 0.05), 0.95))

    @staticmethod
    def _continuation(higher: Counter) -> Counter:
        out = Counter()
        for g in higher:
            out[g[1:]] += 1
        return out

    # ---- probabilities -------------------------------------------------------------
    def prob(self, w: int, h: tuple) -> float:
        """P(w | h) with ``h`` the n-1 preceding ids."""
        n = self.cfg.order
        h = tuple(h[len(h) - (n - 1):]) if n > 1 else ()
        if self.cfg.smoothing == "addk":
            k = self.cfg.k
            return (self.raw[n].get(h + (w,), 0) + k) / (self.tot[n].get(h, 0) + k * self.n_pred)
        return self._kn(w, h, n)

    def _kn(self, w: int, h: tuple, m: int) -> float:
        if m == 0:
            return 1.0 / self.n_pred
        lower = self._kn(w, h[1:], m - 1)
        tot = self.tot[m].get(h, 0)
        if not tot:
            return lower
        D = self.D[m]
        return (max(self.c[m].get(h + (w,), 0) - D, 0.0) + D * self.types[m][h] * lower) / tot

    def next_probs(self, context: Sequence[int]) -> np.ndarray:
        n = self.cfg.order
        ctx = [2] * (n - 1) + list(context)                              # <s> padding
        h = tuple(ctx[len(ctx) - (n - 1):]) if n > 1 else ()
        keep = predictable(len(self.vocab))
        if self.cfg.smoothing == "addk":
            k, p = self.cfg.k, np.zeros(len(self.vocab))
            for w, c in self.succ[n].get(h, []):
                p[w] += c
            return np.where(keep, (p + k) / (self.tot[n].get(h, 0) + k * self.n_pred), 0.0)
        return self._kn_vec(h, n, keep)

    def _kn_vec(self, h: tuple, m: int, keep: np.ndarray) -> np.ndarray:
        if m == 0:
            return keep / self.n_pred
        lower = self._kn_vec(h[1:], m - 1, keep)
        tot = self.tot[m].get(h, 0)
        if not tot:
            return lower
        D = self.D[m]
        p = lower * (D * self.types[m][h] / tot)
        for w, c in self.succ[m][h]:
            p[w] += max(c - D, 0.0) / tot
        return p

    # ---- the SavedModel hooks ---------------------------------------------------------
    def describe(self) -> tuple[dict, object]:
        return {"lm_kind": self.kind, "vocab": self.vocab.itos}, {"order": self.cfg.order, "counts": self.counts}

    @classmethod
    def rebuild(cls, desc: dict, meta: dict, data, where: Path) -> "NgramLM":
        cfg, vocab = cls.config_and_vocab(desc, where)
        path = where.parent / COUNTS
        try:
            counts = data["counts"]
        except (KeyError, TypeError) as e:
            raise TaggerError(f"{path}: unreadable n-gram counts: {e}")
        n = int(desc["lm_config"]["order"])
        if not isinstance(counts, list) or any(not isinstance(r, list) or len(r) != n + 1 for r in counts[:1000]):
            raise TaggerError(f"{path}: n-gram counts do not fit order {n}")
        return cls(cfg, counts, vocab, desc["tokenizer"]["name"], desc["tokenizer"]["version"], meta)

    def score_ids(self, id_lists) -> float:
        grams = padded_ngrams(id_lists, self.cfg.order).tolist()
        return float(sum(np.log(self.prob(g[-1], tuple(g[:-1]))) for g in grams))

    def unseen_ngrams(self, id_lists) -> dict:
        """Share of held-out n-grams (with padding) never seen in training, by order."""
        grams = padded_ngrams(id_lists, self.cfg.order).tolist()
        n = self.cfg.order
        return {str(m): (sum(tuple(g[n - m:]) not in self.raw[m] for g in grams) / len(grams) if grams else 0.0)
                for m in range(1, n + 1)}

    def extra_eval(self, id_lists) -> dict:
        return {"unseen_ngrams": self.unseen_ngrams(id_lists), "order": self.cfg.order,
                "smoothing": self.cfg.smoothing}


def train_ngram(id_lists, cfg: NgramConfig, vocab, tokenizer, tokenizer_version, meta=None) -> NgramLM:
    check_config(cfg)
    return NgramLM(cfg, count_ngrams(id_lists, cfg.order), vocab, tokenizer, tokenizer_version, meta)
