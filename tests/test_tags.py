import random

import pytest

from tagger.corpus.tags import is_tag, parse_tag, spans_to_tags, tag_info, tags_to_spans
from tagger.core import Span


def chars(n):
    return [(i, i + 1) for i in range(n)]


@pytest.mark.parametrize("tag, expected", [
    ("O", ("O", None)),
    ("B-PS", ("B", "PS")),
    ("I-PS", ("I", "PS")),
    ("PS-B", ("B", "PS")),
    ("LC-I", ("I", "LC")),
    ("S-QT", ("S", "QT")),
    ("E-QT", ("E", "QT")),
    ("U-OG", ("S", "OG")),
    ("L-OG", ("E", "OG")),
    ("B-PER-NAME", ("B", "PER-NAME")),
    ("I", ("I", None)),
])
def test_parse_tag(tag, expected):
    assert parse_tag(tag) == expected


@pytest.mark.parametrize("tag", ["", "X", "PS", "B", "B-", "-B", "b-PS", "B PS", "B-P S", "O-", "Q-PS"])
def test_parse_tag_rejects_unknown_shapes(tag):
    with pytest.raises(ValueError):
        parse_tag(tag)
    assert not is_tag(tag)


def test_tag_info_reports_style():
    assert tag_info("B-PS") == ("B", "PS", "prefix")
    assert tag_info("PS-B") == ("B", "PS", "suffix")
    assert tag_info("U-PS") == ("U", "PS", "prefix")


def test_bio_char_spans():
    tags = ["B-PS", "I-PS", "O", "B-LC", "B-LC", "I-LC"]
    spans, problems = tags_to_spans(chars(6), tags)
    assert spans == [Span(0, 2, "PS"), Span(3, 4, "LC"), Span(4, 6, "LC")]
    assert problems == []


def test_word_units_cover_the_words_characters():
    text = "김민준 기자는 서울 종로구에서"
    units = [(0, 3), (4, 7), (8, 10), (11, 16)]
    spans, _ = tags_to_spans(units, ["B-PS", "O", "B-LC", "I-LC"])
    assert spans == [Span(0, 3, "PS"), Span(8, 16, "LC")]
    assert text[8:16] == "서울 종로구에서"


def test_bioes_and_bilou_and_suffix():
    spans, problems = tags_to_spans(chars(6), ["S-PS", "B-LC", "I-LC", "E-LC", "U-QT", "O"])
    assert spans == [Span(0, 1, "PS"), Span(1, 4, "LC"), Span(4, 5, "QT")]
    assert problems == []
    spans, _ = tags_to_spans(chars(3), ["PS-B", "PS-I", "LC-B"])
    assert spans == [Span(0, 2, "PS"), Span(2, 3, "LC")]


def test_entity_ends_at_sentence_end_and_on_e():
    spans, _ = tags_to_spans(chars(4), ["B-PS", "E-PS", "B-PS", "I-PS"])
    assert spans == [Span(0, 2, "PS"), Span(2, 4, "PS")]


def test_orphan_i_starts_new_entity_with_warning():
    spans, problems = tags_to_spans(chars(4), ["O", "I-PS", "I-PS", "O"])
    assert spans == [Span(1, 3, "PS")]
    assert problems == [(1, "warning", "I-PS with no entity PS open; starts a new entity")]


def test_i_of_other_type_starts_new_entity():
    spans, problems = tags_to_spans(chars(3), ["B-PS", "I-LC", "I-LC"])
    assert spans == [Span(0, 1, "PS"), Span(1, 3, "LC")]
    assert [(i, lvl) for i, lvl, _ in problems] == [(1, "warning")]


def test_untyped_i_continues_open_entity():
    spans, problems = tags_to_spans(chars(3), ["B-PS", "I", "O"])
    assert spans == [Span(0, 2, "PS")]
    assert problems == [(1, "warning", "untyped I read as I-PS")]


def test_untyped_i_outside_entity_is_error():
    spans, problems = tags_to_spans(chars(2), ["O", "I"])
    assert spans == []
    assert [(i, lvl) for i, lvl, _ in problems] == [(1, "error")]


def test_unknown_tag_is_error_and_closes_entity():
    spans, problems = tags_to_spans(chars(3), ["B-PS", "PERSON", "I-PS"])
    assert spans == [Span(0, 1, "PS"), Span(2, 3, "PS")]
    assert problems[0][:2] == (1, "error") and "PERSON" in problems[0][2]
    assert problems[1][:2] == (2, "warning")


def test_spans_to_tags_schemes_and_styles():
    spans = [Span(0, 1, "PS"), Span(1, 4, "LC")]
    units = chars(5)
    assert spans_to_tags(units, spans) == ["B-PS", "B-LC", "I-LC", "I-LC", "O"]
    assert spans_to_tags(units, spans, "BIOES") == ["S-PS", "B-LC", "I-LC", "E-LC", "O"]
    assert spans_to_tags(units, spans, "BILOU") == ["U-PS", "B-LC", "I-LC", "L-LC", "O"]
    assert spans_to_tags(units, spans, style="suffix") == ["PS-B", "LC-B", "LC-I", "LC-I", "O"]
    with pytest.raises(ValueError):
        spans_to_tags(units, spans, "IOB1")


def test_spans_to_tags_words_partial_overlap_and_unsorted():
    units = [(0, 4), (5, 8), (9, 12)]  # "서울에서 열린 행사"
    spans = [Span(9, 10, "OG"), Span(0, 2, "LC")]
    assert spans_to_tags(units, spans) == ["B-LC", "O", "B-OG"]


def test_spans_to_tags_first_span_keeps_a_shared_word():
    units = [(0, 4), (5, 8)]
    spans = [Span(0, 2, "PS"), Span(2, 4, "LC")]
    assert spans_to_tags(units, spans) == ["B-PS", "O"]


def test_random_round_trip():
    rng = random.Random(7)
    for _ in range(300):
        n = rng.randint(0, 12)
        spans, pos = [], 0
        while pos < n:
            if rng.random() < 0.4:
                end = rng.randint(pos + 1, n)
                spans.append(Span(pos, end, rng.choice(["PS", "LC"])))
                pos = end
            else:
                pos += 1
        for scheme in ("BIO", "BIOES", "BILOU"):
            for style in ("prefix", "suffix"):
                tags = spans_to_tags(chars(n), spans, scheme, style)
                assert tags_to_spans(chars(n), tags) == (spans, [])
