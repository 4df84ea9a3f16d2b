"""Starting a tagger from a trained RNN language model of the same token unit:
its token embeddings, mapped through both vocabularies, and, where the shapes
fit, its first recurrent layer as the tagger's first forward layer.

The tagger's first layer reads ``[token embedding | other features]``; the
LM's reads the token embedding alone, so the LM's input weights go to the
token-embedding columns and the other columns keep their fresh init. The
backward direction has no counterpart in a left-to-right LM and stays fresh.
"""
from __future__ import annotations

from pathlib import Path

import torch

from tagger.models.encoding import Vocabs
from tagger.models.layers import CELLS
from tagger.models.tagger import Tagger
from tagger.core import TaggerError


def _load_rnn_lm(path):
    from tagger.lm.io import load_lm
    lm = load_lm(path)
    if lm.kind != "rnn":
        raise TaggerError(f"{Path(path)}: a {lm.kind} language model; only an RNN LM can initialise a tagger")
    return lm


@torch.no_grad()
def copy_embeddings(module: Tagger, vocabs: Vocabs, lm) -> int:
    """Copy the LM's embedding row of every tagger token the LM knows; returns how many."""
    src, dst = lm.module.emb.weight, module.word_emb.weight
    if src.size(1) != dst.size(1):
        raise TaggerError(f"the LM's embeddings have {src.size(1)} dimensions but the tagger's have "
                          f"{dst.size(1)}: set embedding_dim={src.size(1)}")
    lm_index = lm.vocab.stoi
    pairs = [(i, lm_index[w]) for i, w in enumerate(vocabs.words.itos) if i > 0 and w in lm_index]
    if pairs:
        ours, theirs = (torch.tensor(x) for x in zip(*pairs))
        dst[ours.to(dst.device)] = src[theirs.to(src.device)].to(dst)
    return len(pairs)


@torch.no_grad()
def copy_first_layer(module: Tagger, lm) -> str:
    """Copy the LM's layer 0 into the tagger's first forward layer; '' or why not."""
    cell = lm.module.cfg.cell
    if CELLS[cell] != CELLS[module.cfg.rnn_type]:
        return f"cells differ (LM {cell}, tagger {module.cfg.rnn_type})"
    if lm.module.cfg.hidden_size != module.cfg.hidden_size:
        return f"hidden sizes differ (LM {lm.module.cfg.hidden_size}, tagger {module.cfg.hidden_size})"
    src, dst = lm.module.rnn, module.rnn.fwd[0]
    e = lm.module.cfg.embedding_dim
    dst.weight_ih_l0[:, :e] = src.weight_ih_l0.to(dst.weight_ih_l0)   # (G*H, E) of (G*H, D)
    for name in ("weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        getattr(dst, name).copy_(getattr(src, name))
    return ""


def init_from_lm(module: Tagger, vocabs: Vocabs, tokenizer: str, path) -> dict:
    """Initialise ``module`` from the RNN LM at ``path``; a report of what was copied."""
    lm = _load_rnn_lm(path)
    if lm.tokenizer != tokenizer:
        raise TaggerError(f"{Path(path)}: the LM reads {lm.tokenizer} units but the tagger {tokenizer}; "
                          "transfer needs the same token unit")
    n = copy_embeddings(module, vocabs, lm)
    why_not = copy_first_layer(module, lm)
    return {"lm": str(path), "embeddings_copied": n, "vocabulary": len(vocabs.words),
            "first_layer": not why_not, "first_layer_skipped": why_not}
