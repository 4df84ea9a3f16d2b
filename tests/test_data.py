"""The encoded split: ragged storage, batches gathered on the device."""
import torch

from tagger.models.encoding import build_vocabs, encode, length_batches
from tagger.tokenizers import get_tokenizer


def _encoded(texts, tags=True):
    toks = get_tokenizer("char").tokenize_many(texts).tokens
    vocabs = build_vocabs(toks, ["PS"], "char", bigrams=True)
    tag_lists = [["B-PS"] + ["O"] * (len(t) - 1) if t else [] for t in toks] if tags else None
    return encode(toks, vocabs, tag_lists), vocabs


def test_batch_is_the_padded_rows():
    texts = ["가나다", "", "라마바사아", "자"]
    enc, vocabs = _encoded(texts)
    b = enc.batch(torch.tensor([2, 0, 1]), 5)
    assert b["mask"].tolist() == [[True] * 5, [True] * 3 + [False] * 2, [False] * 5]
    words = [[vocabs.words.itos[i] for i in row] for row in b["words"].tolist()]
    assert words == [list("라마바사아"), list("가나다") + ["<pad>"] * 2, ["<pad>"] * 5]
    assert b["tags"][:, 0].tolist() == [1, 1, 0] and b["tags"][:, 1:].sum() == 0
    assert set(b) == {"words", "bigrams", "tags", "mask"}
    assert enc.tensors["words"].shape == (4, 5)


def test_memory_is_linear_in_tokens_not_n_times_max_length():
    short = ["가나"] * 200
    a, _ = _encoded(short, tags=False)
    b, _ = _encoded(short + ["가" * 2000], tags=False)           # one very long sentence
    per_token = a.nbytes() / (400 + 1)
    assert b.nbytes() == per_token * (400 + 2000 + 1)             # padded: 201 x 2000 rows


def test_every_sentence_is_batched_once():
    enc, _ = _encoded(["가" * n for n in (3, 1, 4, 1, 5, 9, 2, 6)])
    seen = torch.cat([idx for idx, _ in length_batches(enc.lengths, 3, shuffle=True,
                                                       generator=torch.Generator().manual_seed(1))])
    assert sorted(seen.tolist()) == list(range(8))
