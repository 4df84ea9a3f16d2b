"""Warm start: a fresh tagger module initialised from a previously trained
tagger (the annotation loop's previous round), through ``train(init=...)``.

The new round builds its vocabularies from its own (larger) training set,
so embedding rows are matched by the vocabulary's string (a word, a
character, a bigram, a morpheme ...) and a string the previous model never
saw keeps its fresh row. The tag-dependent parameters (the output
projection and the CRF) are copied whole when both tag lists are equal, else
row by row (and cell by cell for the transitions) for the tags both have.
Every other parameter is copied where its name and shape fit; buffers (the
CRF's BIO constraints) are the fresh module's own, derived from its tags.
"""
from __future__ import annotations

import torch

from tagger.core import TaggerError

# parameter name -> the vocabulary (Vocabs field) whose rows it holds
EMBEDDINGS = {"word_emb.weight": "words", "char_enc.emb.weight": "chars", "pos_emb.weight": "pos",
              "feat_embs.0.weight": "morph", "feat_embs.1.weight": "mpos",
              "feat_embs.2.weight": "position", "bigram_emb.weight": "bigrams"}
TAG_ROWS = ("proj.weight", "proj.bias", "crf.start", "crf.end")   # dim 0 is the tag
TAG_SQUARE = ("crf.transitions",)                                  # (tag, tag)


def _pairs(new_items, old_items):
    """(new indices, old indices) of the items both lists have, as tensors."""
    old = {s: i for i, s in enumerate(old_items)}
    pairs = [(i, old[s]) for i, s in enumerate(new_items) if s in old]
    if not pairs:
        return None
    a, b = zip(*pairs)
    return torch.tensor(a), torch.tensor(b)


@torch.no_grad()
def _copy_rows(dst: torch.Tensor, src: torch.Tensor, pairs) -> int:
    if pairs is None or dst.shape[1:] != src.shape[1:]:
        return 0
    new, old = pairs
    dst[new.to(dst.device)] = src[old.to(src.device)].to(dst)
    return len(new)


@torch.no_grad()
def _copy_square(dst: torch.Tensor, src: torch.Tensor, pairs) -> int:
    if pairs is None:
        return 0
    new, old = (p.to(dst.device) for p in pairs)
    dst[new[:, None], new[None, :]] = src.to(dst)[old[:, None], old[None, :]]
    return len(new)


def warm_start(module, vocabs, previous) -> dict:
    """Copy what fits from ``previous`` (a ``TaggerModel``) into ``module``; the report."""
    old_params = dict(previous.module.named_parameters())
    same_tags = list(previous.vocabs.tags) == list(vocabs.tags)
    tag_pairs = _pairs(vocabs.tags, previous.vocabs.tags)
    rows: dict = {}
    whole = skipped = 0
    for name, dst in module.named_parameters():
        src = old_params.get(name)
        if src is None:
            skipped += 1
        elif name in EMBEDDINGS:
            voc, old_voc = getattr(vocabs, EMBEDDINGS[name]), getattr(previous.vocabs, EMBEDDINGS[name])
            if voc is None or old_voc is None:
                skipped += 1
                continue
            n = _copy_rows(dst, src, _pairs(voc.itos, old_voc.itos))
            rows[EMBEDDINGS[name]] = [n, len(voc)]
        elif not same_tags and name in TAG_ROWS + TAG_SQUARE:
            copy = _copy_square if name in TAG_SQUARE else _copy_rows
            rows["tags"] = [copy(dst, src, tag_pairs), len(vocabs.tags)]
        elif dst.shape == src.shape:
            with torch.no_grad():
                dst.copy_(src.to(dst))
            whole += 1
        else:
            skipped += 1
    if same_tags:
        rows["tags"] = [len(vocabs.tags), len(vocabs.tags)]
    return {"warm_start": True, "params_copied": whole, "params_skipped": skipped, "same_tags": same_tags,
            "rows_copied": {k: v[0] for k, v in rows.items()}, "rows_total": {k: v[1] for k, v in rows.items()}}


def from_tagger(previous):
    """An ``Init`` (see ``tagger.training.tagger.train``) that warm-starts the
    fresh module from ``previous``, a trained ``TaggerModel`` of the same
    tokenizer; a different tokenizer is a ``TaggerError``."""
    def init(module, vocabs, tokenizer: str) -> dict:
        if previous.tokenizer != tokenizer:
            raise TaggerError(f"warm start: the previous model reads {previous.tokenizer} units but this one "
                              f"{tokenizer}; a warm start needs the same tokenizer")
        return warm_start(module, vocabs, previous)
    return init


__all__ = ["from_tagger", "warm_start"]
