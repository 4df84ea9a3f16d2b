"""A TorchText-style vocabulary: ``itos``/``stoi`` with ``<pad>`` = 0 and ``<unk>`` = 1."""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Optional

PAD, UNK = "<pad>", "<unk>"


class Vocab:
    def __init__(self, itos: list[str]):
        if itos[:2] != [PAD, UNK]:
            raise ValueError("a vocabulary starts with <pad>, <unk>")
        self.itos = list(itos)
        self.stoi = {s: i for i, s in enumerate(self.itos)}

    @classmethod
    def build(cls, items: Iterable[str], min_freq: int = 1, max_size: Optional[int] = None) -> "Vocab":
        """From training items only: most frequent first, ties by first appearance."""
        counts = Counter(items)
        kept = [s for s, n in counts.most_common() if n >= min_freq and s not in (PAD, UNK)]
        if max_size is not None:
            kept = kept[:max_size]
        return cls([PAD, UNK] + kept)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, item: str) -> bool:
        return item in self.stoi

    def index(self, item: str) -> int:
        return self.stoi.get(item, 1)

    def indices(self, items: Iterable[str]) -> list[int]:
        get = self.stoi.get
        return [get(s, 1) for s in items]

    def oov_rate(self, items: Iterable[str]) -> float:
        items = list(items)
        return sum(s not in self.stoi for s in items) / len(items) if items else 0.0
