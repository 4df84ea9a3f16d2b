"""Tokens -> tensors: vocabularies built from train only, the whole split
encoded once into flat (ragged) tensors, and length-bucketed batches that are
one on-device gather each (no per-batch Python collation)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch

from tagger.core import Token
from tagger.models.vocab import Vocab

CHAR_UNITS = ("char", "char+kkma", "char+kiwi")
MAX_TOKEN_CHARS = 20


@dataclass(frozen=True)
class DataConfig:
    min_freq: int = 1
    max_size: Optional[int] = None


def token_key(tok: Token) -> str:
    """What a token is looked up by: an analyzer's normalised form, else the surface."""
    return tok.form if tok.form else tok.text


def _bigrams(tokens: Sequence[Token]) -> list[str]:
    texts = [t.text for t in tokens]
    return [a + b for a, b in zip(texts, texts[1:] + ["</s>"])]


@dataclass
class Vocabs:
    words: Vocab
    tags: list[str]
    chars: Optional[Vocab] = None
    pos: Optional[Vocab] = None
    morph: Optional[Vocab] = None
    mpos: Optional[Vocab] = None
    position: Optional[Vocab] = None
    bigrams: Optional[Vocab] = None
    aux_pos: Optional[Vocab] = None     # silver POS tags of the auxiliary loss (a target, not an input)

    NAMES = ("words", "chars", "pos", "morph", "mpos", "position", "bigrams", "aux_pos")

    def sizes(self) -> dict:
        return {n: len(getattr(self, n)) for n in self.NAMES if getattr(self, n) is not None}

    def to_json(self) -> dict:
        out = {n: getattr(self, n).itos for n in self.NAMES if getattr(self, n) is not None}
        out["tags"] = list(self.tags)
        return out

    @classmethod
    def from_json(cls, d: dict) -> "Vocabs":
        return cls(tags=list(d["tags"]), **{n: Vocab(d[n]) for n in cls.NAMES if n in d})

    @property
    def tag_index(self) -> dict:
        return {t: i for i, t in enumerate(self.tags)}


def tag_set(types: Sequence[str]) -> list[str]:
    return ["O"] + [f"{p}-{t}" for t in sorted(types) for p in ("B", "I")]


def build_vocabs(token_lists: Sequence[Sequence[Token]], types: Sequence[str], unit: str,
                 cfg: DataConfig = DataConfig(), bigrams: bool = False) -> Vocabs:
    flat = [t for toks in token_lists for t in toks]
    build = lambda items: Vocab.build(items, cfg.min_freq, cfg.max_size)  # noqa: E731
    v = Vocabs(words=build(token_key(t) for t in flat), tags=tag_set(types))
    if unit not in CHAR_UNITS:
        v.chars = Vocab.build(c for t in flat for c in t.text)
    if any(t.pos for t in flat):
        v.pos = Vocab.build(t.pos or "<none>" for t in flat)
    if any(t.feats for t in flat):
        v.morph = build(t.feats[0] for t in flat if t.feats)
        v.mpos = Vocab.build(t.feats[1] for t in flat if t.feats)
        v.position = Vocab.build(t.feats[2] for t in flat if t.feats)
    if bigrams and unit in CHAR_UNITS:
        v.bigrams = build(b for toks in token_lists for b in _bigrams(toks))
    return v


def oov_rate(vocabs: Vocabs, token_lists: Sequence[Sequence[Token]]) -> float:
    return vocabs.words.oov_rate(token_key(t) for toks in token_lists for t in toks)


@dataclass
class Encoded:
    """A whole split as flat, ragged tensors: for each name, the rows of every
    sentence one after the other, ``(S + 1, ...)`` for S real tokens, the last
    row all zeros (what padding reads). ``starts`` (N,) is where each sentence
    begins, ``lengths`` (N,) its length (kept on the CPU, ``dev_lengths`` on
    the tensors' device). Memory is linear in the number of tokens (padding the
    split to its longest sentence cost N x max_len), and a batch is one gather
    on the device, no per-batch Python collation."""
    flat: dict                  # name -> (S + 1[, ...]) tensor
    lengths: torch.Tensor       # (N,) on CPU
    starts: torch.Tensor        # (N,) on the tensors' device
    dev_lengths: torch.Tensor   # (N,) on the tensors' device
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lengths)

    def to(self, device) -> "Encoded":
        pin = torch.device(device).type == "cuda"
        move = lambda v: (v.pin_memory() if pin else v).to(device, non_blocking=True)  # noqa: E731
        return Encoded({k: move(v) for k, v in self.flat.items()}, self.lengths,
                       move(self.starts), move(self.dev_lengths), self.extra)

    def batch(self, idx: torch.Tensor, max_len: int) -> dict:
        """Rows ``idx`` (on the tensors' device) padded to ``max_len``, plus ``mask``."""
        t = torch.arange(max_len, device=idx.device)
        mask = t.unsqueeze(0) < self.dev_lengths[idx].unsqueeze(1)             # (B, T)
        pad = self.flat["words"].size(0) - 1
        pos = torch.where(mask, self.starts[idx].unsqueeze(1) + t.unsqueeze(0), pad)
        out = {k: v[pos] for k, v in self.flat.items()}                       # (B, T[, ...])
        out["mask"] = mask
        return out

    @property
    def tensors(self) -> dict:
        """The whole split padded to its longest sentence (for inspection)."""
        n = len(self.lengths)
        idx = torch.arange(n, device=self.starts.device)
        return self.batch(idx, max(int(self.lengths.max()) if n else 1, 1))

    def nbytes(self) -> int:
        return sum(v.numel() * v.element_size() for v in self.flat.values())


def encode(token_lists: Sequence[Sequence[Token]], vocabs: Vocabs,
           tag_lists: Optional[Sequence[Sequence[str]]] = None,
           aux_lists: Optional[Sequence[Sequence[str]]] = None) -> Encoded:
    """``aux_lists``: silver POS per token (``aux_pos``, ids of ``vocabs.aux_pos``), for training."""
    lengths = np.array([len(t) for t in token_lists], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(lengths) else lengths
    S = int(lengths.sum()) + 1                                    # + the zero row padding reads
    arrays = {"words": np.zeros(S, np.int64)}
    if vocabs.chars is not None:
        L = min(max((len(t.text) for toks in token_lists for t in toks), default=1), MAX_TOKEN_CHARS)
        arrays["chars"] = np.zeros((S, L), np.int64)
    for name in ("pos", "bigrams"):
        if getattr(vocabs, name) is not None:
            arrays[name] = np.zeros(S, np.int64)
    if vocabs.morph is not None:
        arrays["feats"] = np.zeros((S, 3), np.int64)
    if tag_lists is not None:
        arrays["tags"] = np.zeros(S, np.int64)
    for i, toks in enumerate(token_lists):
        _fill_row(arrays, int(starts[i]), toks, vocabs, tag_lists[i] if tag_lists is not None else None)
    if aux_lists is not None and vocabs.aux_pos is not None:
        arrays["aux_pos"] = np.zeros(S, np.int64)
        for i, tags in enumerate(aux_lists):
            o = int(starts[i])
            arrays["aux_pos"][o:o + len(tags)] = vocabs.aux_pos.indices(tags)
    flat = {k: torch.from_numpy(a) for k, a in arrays.items()}
    lens = torch.from_numpy(lengths)
    return Encoded(flat, lens, torch.from_numpy(starts), lens.clone())


def _fill_row(arrays: dict, o: int, toks: Sequence[Token], v: Vocabs, tags) -> None:
    """Write one sentence's ids at flat offset ``o``."""
    n = len(toks)
    if n == 0:
        return
    arrays["words"][o:o + n] = v.words.indices(token_key(t) for t in toks)
    if "chars" in arrays:
        L = arrays["chars"].shape[1]
        for j, t in enumerate(toks):
            ids = v.chars.indices(t.text[:L])
            arrays["chars"][o + j, :len(ids)] = ids
    if "pos" in arrays:
        arrays["pos"][o:o + n] = v.pos.indices(t.pos or "<none>" for t in toks)
    if "bigrams" in arrays:
        arrays["bigrams"][o:o + n] = v.bigrams.indices(_bigrams(toks))
    if "feats" in arrays:
        for k, voc in enumerate((v.morph, v.mpos, v.position)):
            arrays["feats"][o:o + n, k] = voc.indices(t.feats[k] if t.feats else "<none>" for t in toks)
    if tags is not None:
        index = v.tag_index
        arrays["tags"][o:o + n] = [index.get(t, 0) for t in tags]


def length_batches(lengths: torch.Tensor, batch_size: int, shuffle: bool,
                   generator: Optional[torch.Generator] = None) -> list[tuple[torch.Tensor, int]]:
    """(indices, max length) per batch: sentences of similar length together,
    sorted longest first within a batch; with ``shuffle`` the ties break at
    random and the batch order is shuffled."""
    keys = lengths.double()
    if shuffle:
        keys = keys + torch.rand(len(lengths), generator=generator, dtype=torch.double) * 2.0
    order = torch.argsort(keys, descending=True)
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        perm = torch.randperm(len(batches), generator=generator).tolist()
        batches = [batches[p] for p in perm]
    return [(b, max(int(lengths[b].max()), 1)) for b in batches]
