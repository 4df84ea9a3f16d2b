"""tagger: a Korean sequence-tagging engine (BiLSTM/GRU(-CRF) over Kkma-aligned units).

The public API (see ``tagger.api``): ``load_corpus``, ``tokenize``, ``train``,
``evaluate``, ``load_model`` and ``Model.predict``. Importing the package
pulls in neither streamlit nor konlpy; heavy modules load on first use.
"""
from tagger.core import Problem, Sentence, Span, TaggerError, Token

__all__ = ["load_corpus", "tokenize", "train", "evaluate", "load_model", "predict_spans",
           "Sentence", "Span", "Token", "Problem", "TaggerError"]
_API = {"load_corpus", "tokenize", "train", "evaluate", "load_model", "predict_spans"}


def __getattr__(name):
    if name in _API:
        from tagger import api
        return getattr(api, name)
    raise AttributeError(f"module 'tagger' has no attribute {name!r}")
