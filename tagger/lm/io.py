"""Saving and loading LMs through the one ``SavedModel`` save/load
(``tagger.models.saving``): ``model.json`` (kind ``lm``, the LM kind,
configs, vocabulary, tokenizer, history, held-out scores, the data file's
SHA-256 under ``data``) plus ``counts.json`` (n-gram: the top-order counts)
or ``weights.pt`` (window, RNN: a state dict of tensors only, read with
``weights_only=True``). The data file first, ``model.json`` last."""
from __future__ import annotations

from pathlib import Path

from tagger.lm.common import LanguageModel
from tagger.models.saving import COUNTS, FORMAT_VERSION  # noqa: F401 (names this module always had)


def save_lm(lm: LanguageModel, directory) -> Path:
    return lm.save(directory)


def read_lm_json(d) -> dict:
    return LanguageModel.read(d)


def load_lm(directory, device: str = "cpu") -> LanguageModel:
    return LanguageModel.load(directory, device=device)


__all__ = ["save_lm", "load_lm", "read_lm_json", "COUNTS"]
