"""A small ensemble of trained taggers: several ``TaggerModel``s with the same
tags (same order), tokenizer and head. Each member encodes the tokens with
its own vocabularies; their emissions (B, T, C) are averaged, and so are the
CRF's transition, start and end scores; one Viterbi pass (or the constrained
argmax of a softmax head) decodes the average. ``predict`` returns what
``TaggerModel.predict`` returns, so ``tagger.api.evaluate`` scores an ensemble
like one model. An ensemble is not saved: its members are.

Inference costs about the sum of the members' encoders (the tokenization and
the one decode are shared)."""
from __future__ import annotations

import copy
from typing import Sequence

import torch
from torch import nn

from tagger.core import TaggerError
from tagger.models.encoding import Encoded, encode
from tagger.models.tagger import Tagger, TaggerModel, decode_encoded


class EnsembleModule(nn.Module):
    """The members' modules behind one ``predict(batch)``: ``batch`` holds
    ``mask`` (B, T) and ``members``, one encoded batch per member."""

    def __init__(self, modules: Sequence[Tagger]):
        super().__init__()
        self.members = nn.ModuleList(modules)
        self.tags = list(modules[0].tags)
        self.crf = None
        if modules[0].crf is not None:
            self.crf = copy.deepcopy(modules[0].crf)   # its constraints; the scores become the mean
            with torch.no_grad():
                for name, p in self.crf.named_parameters():
                    p.copy_(torch.stack([m.crf.get_parameter(name).float() for m in modules]).mean(0))

    def forward(self, batch: dict) -> torch.Tensor:
        ems = [m(b).float() for m, b in zip(self.members, batch["members"])]    # each (B, T, C)
        return torch.stack(ems).mean(0)                                         # (B, T, C)

    predict = Tagger.predict   # the same decoding as one tagger, on the mean emissions


class _Stacked:
    """One ``Encoded`` per member, batched alike (same lengths: same tokens)."""

    def __init__(self, encs: Sequence[Encoded]):
        self.encs, self.lengths = list(encs), encs[0].lengths

    def __len__(self) -> int:
        return len(self.lengths)

    def batch(self, idx: torch.Tensor, max_len: int) -> dict:
        parts = [e.batch(idx, max_len) for e in self.encs]
        return {"mask": parts[0]["mask"], "members": parts}


class TaggerEnsemble(TaggerModel):
    """``TaggerEnsemble(models)`` or ``TaggerEnsemble.load_all(dirs)``."""

    def __init__(self, models: Sequence[TaggerModel]):
        models = list(models)
        if not models:
            raise TaggerError("an ensemble needs at least one tagger")
        first = models[0]
        for i, m in enumerate(models[1:], 2):
            why = ("other tags" if list(m.vocabs.tags) != list(first.vocabs.tags)
                   else "another tokenizer" if (m.tokenizer, m.tokenizer_version) != (first.tokenizer, first.tokenizer_version)
                   else "another head (CRF vs softmax)" if (m.module.crf is None) != (first.module.crf is None)
                   else "")
            if why:
                raise TaggerError(f"ensemble member {i} does not fit member 1: {why}")
        self.members = models
        meta = {**first.meta, "ensemble": [m.meta.get("train_config", {}).get("seed") for m in models]}
        super().__init__(EnsembleModule([m.module for m in models]), first.vocabs, first.tokenizer,
                         first.tokenizer_version, meta)

    @classmethod
    def load_all(cls, directories, device: str = "cpu") -> "TaggerEnsemble":
        return cls([TaggerModel.load(d, device=device) for d in directories])

    def predict(self, texts: Sequence[str], batch_size: int = 64, token_lists=None) -> list[dict]:
        """As ``TaggerModel.predict``: one JSON-able result per text."""
        if token_lists is None:
            from tagger.tokenizers import get_tokenizer
            token_lists = get_tokenizer(self.tokenizer).tokenize_many(list(texts), cache=True).tokens
        enc = _Stacked([encode(token_lists, m.vocabs) for m in self.members])
        decoded = decode_encoded(self.module, enc, batch_size)
        return [self._result(t, toks, tags, conf) for t, toks, (tags, conf) in zip(texts, token_lists, decoded)]

    def save(self, directory):
        raise TaggerError("an ensemble is not saved as one model: save (or keep) its members")


__all__ = ["TaggerEnsemble", "EnsembleModule"]
