"""Projection of spans onto tokens and back; scoring at the corpus's granularity."""
import torch

from tagger.models.encoding import Vocabs, build_vocabs, encode, length_batches
from tagger.core.units import spans_to_token_tags, token_tags_to_spans
from tagger.scoring import char_macro_f1, error_counts, score
from tagger.core import Sentence, Span, Token
from tagger.models.vocab import Vocab

# "서울시청했다": Kkma-like morphemes 서울/시청/하/었/다 with 하 and 었 sharing 했
TEXT = "서울시청했다"
MORPHS = [Token("서울", 0, 2, "서울", "NNP"), Token("시청", 2, 4, "시청", "NNG"),
          Token("했", 4, 5, "하", "XSV"), Token("했", 4, 5, "었", "EPT"), Token("다", 5, 6, "다", "EFN")]


def test_spans_project_onto_overlapping_tokens_and_back():
    tags = spans_to_token_tags(MORPHS, [Span(0, 4, "OG")])
    assert tags == ["B-OG", "I-OG", "O", "O", "O"]
    back = token_tags_to_spans(MORPHS, tags)
    assert [s for s, _ in back] == [Span(0, 4, "OG")]


def test_partial_token_overlap_takes_the_whole_token():
    words = [Token("서울시청에서", 0, 6), Token("만나", 7, 9)]
    assert spans_to_token_tags(words, [Span(0, 2, "LC")]) == ["B-LC", "O"]


def test_token_tags_repair_and_scores():
    toks = [Token(c, i, i + 1) for i, c in enumerate("abcdef")]
    spans = token_tags_to_spans(toks, ["I-PS", "I-PS", "O", "B-LC", "I-OG", "O"], [0.5, 1.0, 1, 1, 0.2, 1])
    assert [s for s, _ in spans] == [Span(0, 2, "PS"), Span(3, 4, "LC"), Span(4, 5, "OG")]
    assert abs(spans[0][1] - 0.75) < 1e-9


def test_overlapping_predicted_entities_do_not_overlap_in_characters():
    tags = ["O", "O", "B-PS", "B-DT", "I-DT"]
    spans = [s for s, _ in token_tags_to_spans(MORPHS, tags)]
    assert spans == [Span(4, 5, "PS"), Span(5, 6, "DT")]


def test_score_at_char_and_word_granularity():
    gold = [Sentence("김철수 서울 간다", [Span(0, 3, "PS"), Span(4, 6, "LC")])]
    perfect = score(gold, [[Span(0, 3, "PS"), Span(4, 6, "LC")]], "char")
    assert perfect["entity_f1"] == 1.0 and perfect["char_macro_f1"] == 1.0
    half = score(gold, [[Span(0, 3, "PS")]], "char")
    assert abs(half["entity_f1"] - 2 / 3) < 1e-9 and half["per_type"]["LC"]["recall"] == 0.0
    # a character-level near miss is wrong on characters but right on words
    near = [[Span(0, 2, "PS"), Span(4, 6, "LC")]]
    assert score(gold, near, "char")["entity_f1"] == 0.5
    assert score(gold, near, "word")["entity_f1"] == 1.0
    assert 0 < char_macro_f1(gold, near) < 1


def test_error_kinds():
    gold = [Sentence("abcdefghij", [Span(0, 2, "PS"), Span(3, 5, "LC"), Span(6, 8, "OG")])]
    pred = [[Span(0, 3, "PS"), Span(3, 5, "OG"), Span(9, 10, "DT")]]
    assert error_counts(gold, pred) == {"correct": 0, "boundary": 1, "type": 1, "missed": 1, "spurious": 1}


def test_vocab_and_encoding_from_train_only():
    toks = [[Token("a", 0, 1), Token("b", 1, 2)], [Token("a", 0, 1)]]
    v = build_vocabs(toks, ["PS"], "char")
    assert v.words.itos[:2] == ["<pad>", "<unk>"] and v.words.itos[2] == "a"
    assert v.tags == ["O", "B-PS", "I-PS"]
    enc = encode([[Token("a", 0, 1), Token("z", 1, 2)]], v)
    assert enc.tensors["words"].tolist() == [[2, 1]]
    assert Vocabs.from_json(v.to_json()).words.itos == v.words.itos
    assert Vocab.build(["x", "x", "y"], min_freq=2).itos == ["<pad>", "<unk>", "x"]


def test_length_batches_cover_everything_once_and_sort_within():
    lengths = torch.tensor([5, 1, 9, 3, 3, 7, 2])
    batches = length_batches(lengths, 3, shuffle=True, generator=torch.Generator().manual_seed(0))
    seen = sorted(i for b, _ in batches for i in b.tolist())
    assert seen == list(range(7))
    for b, m in batches:
        ls = lengths[b].tolist()
        assert ls == sorted(ls, reverse=True) and m == max(ls)
