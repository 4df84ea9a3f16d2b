"""What every language model shares: tokenization into LM units, the
vocabulary and its one OOV policy, the sentence/stream layout, perplexity and
bits per character, next-token suggestions and sampling.

Layout: each line is one sentence. The n-gram and window models see
``<s>``*(n-1) + tokens + ``</s>`` per line; the RNN LM reads all lines as one
stream ``</s> tokens </s> tokens </s> ...``. Either way every token and one
``</s>`` per line is predicted exactly once, so perplexities are comparable.

OOV policy (all models): tokens seen fewer than ``min_freq`` times in the
training text are ``<unk>`` in training and evaluation alike, so ``<unk>`` is
an ordinary predicted token with a learnt probability that is counted in the
perplexity; the OOV rate (held-out tokens that became ``<unk>``) is reported.
Bits per character divide the same total log-loss by the characters of the
text, counting one per line for its end, so tokenizers can be compared.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from tagger.core import TaggerError
from tagger.models.encoding import token_key
from tagger.models.saving import SavedModel, config_from_json, resolve
from tagger.models.vocab import PAD, UNK, Vocab

BOS, EOS = "<s>", "</s>"
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
SPECIALS = (PAD, UNK, BOS, EOS)


@dataclass(frozen=True)
class LMDataConfig:
    min_freq: int = 2               # rarer training tokens become <unk> (the OOV policy)
    max_size: Optional[int] = None  # most frequent tokens kept, specials not counted


def build_vocab(token_lists: Sequence[Sequence[str]], cfg: LMDataConfig = LMDataConfig()) -> Vocab:
    """``<pad> <unk> <s> </s>`` then training tokens, most frequent first."""
    base = Vocab.build((t for toks in token_lists for t in toks), cfg.min_freq, cfg.max_size)
    return Vocab(list(SPECIALS) + [s for s in base.itos[2:] if s not in (BOS, EOS)])


def predictable(vocab_size: int) -> np.ndarray:
    """(V,) bool: the tokens a model predicts (all but ``<pad>`` and ``<s>``)."""
    keep = np.ones(vocab_size, dtype=bool)
    keep[[PAD_ID, BOS_ID]] = False
    return keep


def tokenize_lines(texts: Sequence[str], tokenizer: str,
                   progress: Optional[Callable[[int, int], None]] = None) -> list[list[str]]:
    """LM units per line: an analyzer's normalised form, else the surface."""
    from tagger.tokenizers import get_tokenizer
    tok = get_tokenizer(tokenizer)
    res = tok.tokenize_many(list(texts), cache=True, workers=min(2, os.cpu_count() or 1), progress=progress)
    return [[token_key(t) for t in toks] for toks in res.tokens]


def to_ids(token_lists: Sequence[Sequence[str]], vocab: Vocab) -> list[list[int]]:
    """Ids per line; unknown tokens (and literal specials in the text) are ``<unk>``."""
    return [[i if i >= 4 else UNK_ID for i in vocab.indices(toks)] for toks in token_lists]


def stream_ids(id_lists: Sequence[Sequence[int]]) -> np.ndarray:
    """``</s> s1 </s> s2 </s> ...`` as one int64 array (the RNN LM's view)."""
    out = [EOS_ID]
    for ids in id_lists:
        out.extend(ids)
        out.append(EOS_ID)
    return np.asarray(out, dtype=np.int64)


def padded_ngrams(id_lists: Sequence[Sequence[int]], n: int) -> np.ndarray:
    """(N, n) int64: every predicted token (each token and one ``</s>`` per
    line) with its n-1 preceding ids, ``<s>``-padded at the line start."""
    rows = []
    for ids in id_lists:
        seq = np.asarray([BOS_ID] * (n - 1) + list(ids) + [EOS_ID], dtype=np.int64)
        idx = np.arange(n - 1, len(seq))[:, None] + np.arange(-(n - 1), 1)[None, :]  # (len+1, n)
        rows.append(seq[idx])
    return np.concatenate(rows) if rows else np.zeros((0, n), dtype=np.int64)


def n_predicted(id_lists: Sequence[Sequence[int]]) -> int:
    return sum(len(ids) + 1 for ids in id_lists)


def safe_exp(x: float) -> float:
    """``exp`` that gives ``inf`` instead of overflowing (a diverged model's perplexity)."""
    return math.exp(x) if x < 700 else float("inf")


def metrics(logprob_sum: float, tokens: int, characters: int) -> dict:
    """Perplexity per predicted token and bits per character from a natural-log total."""
    nll = -float(logprob_sum)
    return {"perplexity": safe_exp(nll / tokens) if tokens else float("nan"),
            "bits_per_char": nll / math.log(2) / characters if characters else float("nan"),
            "cross_entropy": nll / tokens if tokens else float("nan")}


def oov_counts(token_lists: Sequence[Sequence[str]], vocab: Vocab) -> tuple[int, int]:
    """(tokens that map to <unk>, all tokens), ``</s>`` not counted."""
    total = sum(len(t) for t in token_lists)
    unk = sum(1 for toks in token_lists for t in toks if vocab.stoi.get(t, UNK_ID) < 4)
    return unk, total


# the class of each LM kind, imported on first use (they import this module)
LM_CLASSES = {"ngram": "tagger.lm.ngram:NgramLM", "window": "tagger.lm.window:WindowLM",
              "rnn": "tagger.lm.rnn:RNNLM"}


class LanguageModel(SavedModel):
    """Base of the three kinds. Subclasses implement ``score_ids`` (total
    natural log-probability of every predicted token) and ``next_probs``
    ((V,) probabilities of the next token after a context of ids).

    Saved as kind ``lm`` (``lm_kind`` names the kind, ``vocab`` the
    vocabulary) with the data file under ``data``: ``weights.pt`` for the
    neural kinds (their ``NET`` built from ``CONFIG``), ``counts.json`` for
    the n-gram (it overrides the hooks)."""
    kind = "?"
    KIND, DATA_KEY = "lm", "data"
    NOT_META = ("vocab", "tokenizer", "data", "kind", "format_version")
    CONFIG: type = type(None)
    NET: type = type(None)

    def __init__(self, vocab: Vocab, tokenizer: str, tokenizer_version: str, meta: Optional[dict] = None):
        self.vocab, self.tokenizer, self.tokenizer_version = vocab, tokenizer, tokenizer_version
        self.meta = dict(meta or {})

    def score_ids(self, id_lists: Sequence[Sequence[int]]) -> float:
        raise NotImplementedError

    def next_probs(self, context: Sequence[int]) -> np.ndarray:
        raise NotImplementedError

    def extra_eval(self, id_lists) -> dict:
        return {}

    # ---- shared on top of the two primitives ---------------------------------------
    def evaluate_tokens(self, token_lists: Sequence[Sequence[str]], texts: Sequence[str]) -> dict:
        ids = to_ids(token_lists, self.vocab)
        total = self.score_ids(ids)
        tokens = n_predicted(ids)
        chars = sum(len(t) for t in texts) + len(texts)
        unk, words = oov_counts(token_lists, self.vocab)
        out = {**metrics(total, tokens, chars), "tokens": tokens, "characters": chars,
               "sentences": len(texts), "oov_tokens": unk, "oov_rate": unk / words if words else 0.0,
               "kind": self.kind, "tokenizer": self.tokenizer, "vocab_size": len(self.vocab)}
        out.update(self.extra_eval(ids))
        return out

    def evaluate(self, texts: Sequence[str], progress=None) -> dict:
        texts = [t for t in texts if t.strip()]
        if not texts:
            raise TaggerError("no text to evaluate on (every line is blank)")
        return self.evaluate_tokens(tokenize_lines(texts, self.tokenizer, progress), texts)

    def complete(self, prefix: str, top_k: int = 5, samples: int = 0, temperature: float = 1.0,
                 max_tokens: int = 30, seed: int = 1) -> dict:
        """Top-k next tokens after ``prefix`` (``<unk>`` left out) and sampled continuations."""
        if top_k < 0 or samples < 0 or temperature <= 0 or max_tokens < 1:
            raise TaggerError("--top-k and --sample must be >= 0 and --temperature > 0")
        toks = tokenize_lines([prefix], self.tokenizer)[0] if prefix.strip() else []
        context = to_ids([toks], self.vocab)[0]
        p = self.next_probs(context).copy()
        p[UNK_ID] = 0.0
        order = np.argsort(-p, kind="stable")[:top_k]
        sugg = [{"token": self.vocab.itos[i], "prob": float(p[i])} for i in order if p[i] > 0]
        rng = np.random.default_rng(seed)
        outs = [self.detokenize(self._sample(context, temperature, max_tokens, rng)) for _ in range(samples)]
        return {"prefix": prefix, "tokens": toks, "suggestions": sugg, "samples": outs}

    def _sample(self, context: list[int], temperature: float, max_tokens: int, rng) -> list[str]:
        ctx, out = list(context), []
        for _ in range(max_tokens):
            p = self.next_probs(ctx).astype(np.float64)
            p[UNK_ID] = 0.0
            logits = np.log(np.clip(p, 1e-300, None)) / temperature
            logits[p <= 0] = -np.inf
            q = np.exp(logits - logits.max())
            nxt = int(rng.choice(len(q), p=q / q.sum()))
            if nxt == EOS_ID:
                break
            out.append(self.vocab.itos[nxt])
            ctx.append(nxt)
        return out

    def detokenize(self, toks: Sequence[str]) -> str:
        return ("" if self.tokenizer.startswith("char") else " ").join(toks)

    # ---- the SavedModel hooks (neural kinds; the n-gram overrides them) ---------------
    def describe(self) -> tuple[dict, object]:
        return {"lm_kind": self.kind, "vocab": self.vocab.itos}, self.module

    @classmethod
    def check(cls, desc: dict, path: Path) -> None:
        if desc.get("lm_kind") not in LM_CLASSES or not isinstance(desc.get("vocab"), list) \
                or not isinstance(desc.get("data"), dict) or "sha256" not in desc["data"]:
            raise TaggerError(f"{path}: incomplete language model description")

    @classmethod
    def kind_class(cls, desc: dict) -> type:
        return resolve(LM_CLASSES[desc["lm_kind"]])

    @classmethod
    def rebuild(cls, desc: dict, meta: dict, data, where: Path) -> "LanguageModel":
        cfg, vocab = cls.config_and_vocab(desc, where)
        return cls(cls.NET(cfg, len(vocab)), vocab, desc["tokenizer"]["name"], desc["tokenizer"]["version"], meta)

    @classmethod
    def config_and_vocab(cls, desc: dict, where: Path) -> tuple:
        cfg = config_from_json(cls.CONFIG, desc.get("lm_config", {}), where)
        try:
            return cfg, Vocab(desc["vocab"])
        except ValueError as e:
            raise TaggerError(f"{where}: bad vocabulary: {e}")


class NeuralLM(LanguageModel):
    """A window or RNN LM: a torch ``module`` (its ``NET``, built from its ``CONFIG``).
    ``STORED_DEFAULTS``: the ``CONFIG`` defaults before they last moved; a saved
    config that leaves a setting out was saved under them, so they fill it in."""
    STORED_DEFAULTS: dict = {}

    def __init__(self, net, vocab: Vocab, tokenizer: str, tokenizer_version: str, meta: Optional[dict] = None):
        super().__init__(vocab, tokenizer, tokenizer_version, meta)
        self.module, self.cfg = net, net.cfg

    @classmethod
    def config_and_vocab(cls, desc: dict, where: Path) -> tuple:
        """A saved config's missing settings take the defaults it was saved under, not today's."""
        stored = desc.get("lm_config", {})
        if isinstance(stored, dict):
            desc = {**desc, "lm_config": {**cls.STORED_DEFAULTS, **stored}}
        return super().config_and_vocab(desc, where)
