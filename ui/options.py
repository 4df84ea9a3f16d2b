"""The engine's choices and defaults the pages offer (tokenizers, corpus
formats, the upload limit, model and training defaults) and its sentence
splitting, so that the pages need no engine module beyond the public API."""
from __future__ import annotations

from dataclasses import asdict

from tagger import TaggerError
from tagger.core.units import split_sentences
from tagger.corpus.load import FORMATS
from tagger.models.tagger import TaggerConfig
from tagger.settings import DEFAULT_TOKENIZER
from tagger.tokenizers import TOKENIZERS
from tagger.training.tagger import TrainConfig
from tagger.workspace.ids import max_upload_mb

__all__ = ["DEFAULT_TOKENIZER", "FORMATS", "TOKENIZERS", "model_defaults", "split_sentences",
           "train_defaults", "upload_limit_text"]


def model_defaults() -> dict:
    """A tagger's settings by default (the measured best), as a dict."""
    return asdict(TaggerConfig())


def train_defaults() -> dict:
    """Training settings by default, as a dict."""
    return asdict(TrainConfig())


def upload_limit_text() -> str:
    """The largest upload in words, or why the limit setting is wrong."""
    try:
        return f"At most {max_upload_mb():g} MB a file."
    except TaggerError as err:
        return str(err)
