import json

import pytest

from conftest import SAMPLES
from tagger.corpus.load import load_corpus, new_corpus
from tagger.core import Sentence, Span
from tagger.corpus.validate import validate


def report(tmp_path, content, fmt=None, name="c.tsv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    result = validate(load_corpus(path, format=fmt))
    json.dumps(result)
    return result


def found(result):
    return [(p["line"], p["level"], p["message"]) for p in result["problems"]]


def lines_levels(result):
    return [(p["line"], p["level"]) for p in result["problems"]]


def test_report_of_sample():
    result = validate(load_corpus(SAMPLES / "ner_klue_dev.tsv"))
    assert result["format"] == "klue" and result["encoding"] == "utf-8"
    assert result["sentences"] == 8 and result["problems"] == []
    assert result["tokens"] == 221
    assert result["entities"] == {"DT": 5, "LC": 3, "OG": 2, "PS": 2, "QT": 3, "TI": 2}
    assert validate(load_corpus(SAMPLES / "lm.txt"))["tokens"] == 313
    assert validate(load_corpus(SAMPLES / "classify.tsv"))["labels"]["긍정"] == 12


def test_klue_wrong_column_count_and_unknown_tag(tmp_path):
    result = report(tmp_path, "## a\t<김:PS>\n김\tB-PS\tX\n\n## b\t이씨\n이\n씨\tPERSON\n")
    assert lines_levels(result) == [(2, "error"), (5, "error"), (6, "error")]
    assert "wrong column count" in found(result)[0][2]
    assert "wrong column count" in found(result)[1][2]
    assert "unknown tag shape 'PERSON'" in found(result)[2][2]
    assert result["sentences"] == 2 and result["entities"] == {"PS": 1}


def test_orphan_i_and_untyped_i_warnings(tmp_path):
    result = report(tmp_path, "## a\t김<씨:PS>\n김\tO\n씨\tI-PS\n\n## b\t<이씨:PS>\n이\tB-PS\n씨\tI\n")
    assert found(result) == [
        (3, "warning", "I-PS with no entity PS open; starts a new entity"),
        (7, "warning", "untyped I read as I-PS"),
    ]
    assert result["entities"] == {"PS": 2}


def test_empty_sentences(tmp_path):
    result = report(tmp_path, "## a\t\n\n## b\t가\n가\tO\n")
    assert lines_levels(result) == [(1, "error")] and "empty sentence" in found(result)[0][2]
    assert result["sentences"] == 1
    result = report(tmp_path, "가 나\tO O\n\tO\n", fmt="sentence-tags")
    assert lines_levels(result) == [(2, "error")] and "empty sentence" in found(result)[0][2]
    result = report(tmp_path, "좋다\t긍정\n \t부정\n", fmt="text-label")
    assert lines_levels(result) == [(2, "error")]


def test_undecodable_bytes(tmp_path):
    content = "좋다\t긍정\n".encode("utf-8") + b"\xff\xfe\xff\t\xc0\n" + "별로\t부정\n".encode("utf-8")
    result = report(tmp_path, content)
    assert found(result) == [(2, "error", "undecodable bytes")]
    assert result["sentences"] == 3 and result["encoding"] == "utf-8"


def test_undecodable_bytes_in_cp949_file(tmp_path):
    content = "좋다\t긍정\n별로\t부정\n".encode("cp949") + b"\xff\xff\t\xff\n" + "음\t중립\n".encode("cp949")
    result = report(tmp_path, content)
    assert found(result) == [(3, "error", "undecodable bytes")]
    assert result["encoding"] == "cp949" and result["sentences"] == 4
    assert result["labels"] == {"긍정": 1, "부정": 1, "중립": 1, "\ufffd": 1}


def test_duplicate_ids(tmp_path):
    result = report(tmp_path, "## a\t가\n가\tO\n\n## b\t나\n나\tO\n\n## a\t다\n다\tO\n")
    assert found(result) == [(7, "warning", "duplicate sentence id 'a' (first at line 1)")]


def test_sentence_tags_count_mismatch_and_columns(tmp_path):
    result = report(tmp_path, "가 나 다\tO B-PS O\n서울 부산\tB-LC\n그냥 문장\n", fmt="sentence-tags")
    assert lines_levels(result) == [(2, "error"), (3, "error")]
    assert "tag count 1 does not match word count 2" in found(result)[0][2]
    assert "wrong column count" in found(result)[1][2]
    assert result["sentences"] == 2 and result["entities"] == {"LC": 1, "PS": 1}


def test_conll_token_with_space_and_column_count(tmp_path):
    result = report(tmp_path, "# c\n서울 시\tNNP\tB-LC\n에\tJKB\tO\n\n부산\tB-LC\n", fmt="conll")
    assert lines_levels(result) == [(2, "error"), (5, "error")]
    assert "token contains a space" in found(result)[0][2]
    assert "expected 3" in found(result)[1][2]
    assert result["tokens"] == 4


def test_text_label_wrong_columns(tmp_path):
    result = report(tmp_path, "좋다\t긍정\n별로\t부정\t끝\n좋아요\t\n", fmt="text-label")
    assert lines_levels(result) == [(2, "error"), (3, "error")]


@pytest.mark.parametrize("content", ["", "\n \n"])
def test_empty_file(tmp_path, content):
    result = report(tmp_path, content)
    assert found(result) == [(0, "error", "empty file")]


def test_in_memory_span_problems():
    sents = [Sentence("김철수", [Span(0, 2, "PS"), Span(1, 3, "PS")], line=4),
             Sentence("서울", [Span(1, 5, "LC")], line=9)]
    result = validate(new_corpus(sents, "klue"))
    assert lines_levels(result) == [(4, "error"), (9, "error")]
    assert "overlaps" in found(result)[0][2]
