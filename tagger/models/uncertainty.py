"""How unsure a trained tagger is about each sentence: the order in which an
annotation loop shows sentences for review (most uncertain first).

Every measure maps a sentence to [0, 1], higher = more uncertain; an empty
sentence scores 0.0. Scores are computed per padded batch, vectorised over
it (the CRF's own time recursions aside, no per-token Python loops):

``path``    least confidence of the decoded path: 1 - P(best path | x). With
            a CRF, P = exp(score(best) - log Z); with a softmax head, the
            product over tokens of each token's highest probability.
``margin``  1 - the smallest margin p1 - p2 between a token's two most
            probable tags (CRF marginals, or the softmax).
``entity``  1 - the lowest confidence among the sentence's decisions. A
            decision is a predicted entity (its confidence: the mean marginal
            of its tokens' predicted tags, as the app shows it) or a single
            token predicted ``O`` (its confidence: the marginal of ``O``
            there: a low one is a possibly missed entity). A sentence decided
            all ``O`` with certainty scores 0.

``path`` saturates on long sentences (P(best) below 1e-16 reads 1.0 in
float64), so :func:`uncertainty_keys` gives an order-preserving key that
does not: -log P(best) for ``path``, the score itself for the others.
"""
from __future__ import annotations

from typing import Sequence

import torch

from tagger.models.crf import constrained_argmax
from tagger.models.encoding import encode, length_batches

MEASURES = ("path", "margin", "entity")


def _check(measure: str) -> None:
    if measure not in MEASURES:
        raise ValueError(f"unknown uncertainty measure {measure!r} (choose from {', '.join(MEASURES)})")


def _path_keys(module, em, mask, probs, best) -> torch.Tensor:
    """-log P(best path | x) per sentence, (B,), >= 0."""
    if module.crf is not None:
        logp = module.crf.score(em, best, mask) - module.crf.log_partition(em, mask)   # (B,)
    else:
        top = probs.max(-1).values.clamp_min(1e-30).log()                             # (B, T)
        logp = (top * mask).sum(1)
    return (-logp.double()).clamp_min(0.0)


def _margin_scores(probs, mask) -> torch.Tensor:
    """1 - min over tokens of (p1 - p2), (B,)."""
    top2 = probs.topk(min(2, probs.size(-1)), dim=-1).values                         # (B, T, 2)
    gap = top2[..., 0] - (top2[..., 1] if top2.size(-1) > 1 else 0.0)                # (B, T)
    gap = gap.masked_fill(~mask, 1.0)
    return (1.0 - gap.min(1).values).double().clamp(0.0, 1.0)


def _tag_tables(tags: Sequence[str], device):
    """Per tag id: is it ``B-``, is it ``I-``, and its type id (-1 for ``O``)."""
    types = sorted({t[2:] for t in tags if t != "O"})
    is_b = torch.tensor([t.startswith("B-") for t in tags], device=device)
    is_i = torch.tensor([t.startswith("I-") for t in tags], device=device)
    typ = torch.tensor([types.index(t[2:]) if t != "O" else -1 for t in tags], device=device)
    return is_b, is_i, typ


def _entity_scores(probs, mask, best, tags) -> torch.Tensor:
    """1 - the lowest decision confidence (see the module doc), (B,)."""
    B, T = best.shape
    is_b, is_i, typ = _tag_tables(tags, best.device)
    conf = probs.gather(2, best.unsqueeze(2)).squeeze(2)                              # (B, T)
    cur = typ[best]                                                                   # (B, T)
    prev = torch.cat([cur.new_full((B, 1), -1), cur[:, :-1]], 1)                      # (B, T)
    inside = (cur >= 0) & mask
    # an entity starts at B-X, or at I-X not continuing an X (conlleval's repair)
    start = inside & (is_b[best] | (is_i[best] & (prev != cur)))
    seg = start.long().cumsum(1)                                                      # (B, T) entity number
    seg = torch.where(inside, seg, 0)                                                 # 0 = not in an entity
    total = conf.new_zeros(B, T + 1).scatter_add_(1, seg, conf * inside)              # (B, T+1)
    count = conf.new_zeros(B, T + 1).scatter_add_(1, seg, inside.to(conf.dtype))
    mean = total / count.clamp_min(1.0)
    decision = torch.where(inside, mean.gather(1, seg), conf)                         # (B, T)
    decision = decision.masked_fill(~mask, 1.0)
    return (1.0 - decision.min(1).values).double().clamp(0.0, 1.0)


@torch.no_grad()
def _batch_keys(module, batch: dict, measure: str) -> torch.Tensor:
    em, mask = module(batch).float(), batch["mask"]                                   # (B, T, C), (B, T)
    if module.crf is not None:
        best = module.crf.decode(em, mask)
        if measure == "path":                                                         # no marginals needed
            return _path_keys(module, em, mask, None, best)
        probs = module.crf.marginals(em, mask)
    else:
        probs = em.softmax(-1)
        best = constrained_argmax(probs.clamp_min(1e-12).log(), mask, module.tags)   # what predict shows
    if measure == "path":
        return _path_keys(module, em, mask, probs, best)
    if measure == "margin":
        return _margin_scores(probs, mask)
    return _entity_scores(probs, mask, best, module.tags)


def uncertainty_keys(model, token_lists, measure: str = "path", batch_size: int = 64) -> list[float]:
    """An order-preserving key of :func:`sentence_uncertainty` per sentence
    that never saturates (``path``: -log P(best path), in [0, inf))."""
    _check(measure)
    module = model.module
    module.eval()
    enc = encode(token_lists, model.vocabs)
    out = torch.zeros(len(enc), dtype=torch.float64)
    device = next(module.parameters()).device
    nonempty = torch.nonzero(enc.lengths > 0).squeeze(1)
    for idx, max_len in length_batches(enc.lengths[nonempty], batch_size, shuffle=False):
        rows = nonempty[idx]
        out[rows] = _batch_keys(module, enc.batch(rows.to(device), max_len), measure).cpu()
    return out.tolist()


def key_to_score(key: float, measure: str) -> float:
    """The [0, 1] uncertainty of a key from :func:`uncertainty_keys`."""
    if measure == "path":
        return float(-torch.expm1(torch.tensor(-key, dtype=torch.float64)))
    return float(key)


def sentence_uncertainty(model, token_lists, measure: str = "path", batch_size: int = 64) -> list[float]:
    """Per sentence, how uncertain ``model`` (a ``TaggerModel``) is, in [0, 1]:
    see the module doc for the measures. ``token_lists`` are what the model's
    tokenizer returns; an empty sentence scores 0.0."""
    return [key_to_score(k, measure) for k in uncertainty_keys(model, token_lists, measure, batch_size)]


__all__ = ["MEASURES", "sentence_uncertainty", "uncertainty_keys", "key_to_score"]
