"""The documented Python API that the CLI and the app both use.

    import tagger
    corpus = tagger.load_corpus("data/samples/ner_klue.tsv")
    model = tagger.train(corpus, tokenizer="char", epochs=5)
    model.save("models/demo")
    scores = tagger.evaluate(tagger.load_model("models/demo"), corpus)
    tagger.load_model("models/demo").predict(["김철수는 서울에 산다."])
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from tagger.core import Sentence, TaggerError


def load_corpus(path, format: Optional[str] = None, encoding: Optional[str] = None,
                scheme: Optional[str] = None):
    """A corpus file; ``scheme`` ``bio`` (entities) or ``plain`` (per-unit
    labels such as POS) is detected from the tags when not given."""
    from tagger.corpus.load import load_corpus as _load
    return _load(path, format=format, encoding=encoding, scheme=scheme)


def tokenize(texts: Sequence[str], tokenizer: str = "kkma", **kw):
    """Tokenize sentences (cached on disk); returns a ``TokenizeResult``."""
    from tagger.tokenizers import get_tokenizer
    return get_tokenizer(tokenizer).tokenize_many(list(texts), **kw)


def _corpus_info(data) -> tuple[Optional[list[Sentence]], Optional[str], Optional[str]]:
    """(sentences, granularity, scheme) from a Corpus, a path or a list of Sentences."""
    if data is None:
        return None, None, None
    if isinstance(data, (str, Path)):
        data = load_corpus(data)
    if hasattr(data, "sentences"):
        if data.has_errors():
            first = next(p for p in data.problems if p.level == "error")
            raise TaggerError(f"{first} (and {sum(p.level == 'error' for p in data.problems) - 1} more errors)")
        return list(data.sentences), data.granularity, data.scheme
    return list(data), None, None


def train(train_data, dev_data=None, *, tokenizer: Optional[str] = None, callbacks=(), resume=None,
          model_config=None, train_config=None, data_config=None, **overrides):
    """Train a tagger. ``overrides`` are TaggerConfig / TrainConfig / DataConfig
    field names (``rnn_type``, ``hidden_size``, ``use_crf``, ``epochs``, ``lr``,
    ``min_freq`` ...)."""
    from dataclasses import fields
    from tagger.models.encoding import DataConfig
    from tagger.settings import DEFAULT_TOKENIZER
    from tagger.models.tagger import TaggerConfig
    from tagger.training.tagger import TrainConfig, train as _train, with_overrides
    cfgs = [model_config or TaggerConfig(), train_config or TrainConfig(), data_config or DataConfig()]
    names = [{f.name for f in fields(c)} for c in cfgs]
    unknown = set(overrides) - set().union(*names)
    if unknown:
        raise TaggerError(f"unknown training settings: {', '.join(sorted(unknown))}")
    mc, tc, dc = (with_overrides(c, **{k: v for k, v in overrides.items() if k in n})
                  for c, n in zip(cfgs, names))
    tr, gran, scheme = _corpus_info(train_data)
    dv, _, dv_scheme = _corpus_info(dev_data)
    if dv_scheme and scheme and dv_scheme != scheme:
        raise TaggerError(f"the training corpus is {scheme} but the dev corpus is {dv_scheme}: "
                          "both must be entity (bio) or both per-unit label (plain) corpora")
    return _train(tr, dv, tokenizer=tokenizer or DEFAULT_TOKENIZER, model_config=mc, train_config=tc,
                  data_config=dc, granularity=gran or "char", scheme=scheme or "bio", callbacks=callbacks,
                  resume=resume, init=lm_init(tc.init_lm))


def lm_init(path):
    """``init`` for ``training.train`` that starts a tagger from the RNN LM at
    ``path`` (``TrainConfig.init_lm``), or None when no LM is named."""
    if not path:
        return None
    from functools import partial
    from tagger.lm.transfer import init_from_lm
    return partial(init_from_lm, path=path)


def load_model(path, device: str = "cpu", kind: Optional[str] = "tagger"):
    """A saved model: a tagger unless ``kind`` names another kind (``None``:
    whichever kind the directory holds), through the registry of kinds."""
    from tagger.models.saving import load_any
    return load_any(path, device=device, kind=kind)


def predict_spans(model, sentences: Sequence[Sentence], batch_size: int = 64):
    """Predicted entities per sentence as (Span, score) lists, plus the raw results."""
    from tagger.core import Span
    results = model.predict([s.text for s in sentences], batch_size=batch_size)
    spans = [[(Span(e["start"], e["end"], e["label"]), e["score"]) for e in r["entities"]] for r in results]
    return spans, results


def evaluate(model, data, granularity: Optional[str] = None) -> dict:
    """Scores of ``model`` on a labelled corpus, at the corpus's own
    granularity: seqeval entity scores (bio), or token accuracy and per-tag
    P/R/F1 (plain: per-unit labels such as POS)."""
    from tagger.scoring import error_counts, score, score_plain
    sentences, gran, scheme = _corpus_info(data)
    scheme = scheme or model.meta.get("scheme", "bio")
    spans, _ = predict_spans(model, sentences)
    predicted = [[s for s, _ in sp] for sp in spans]
    if scheme == "plain":
        out = score_plain(sentences, predicted, granularity or gran or "char")
    else:
        out = score(sentences, predicted, granularity or gran or "char")
        out["errors"] = error_counts(sentences, predicted)
    out["tokenizer"] = model.tokenizer
    return out
