import codecs
import os

import pytest

from conftest import SAMPLES
from tagger.corpus.load import FORMATS, Corpus, detect_format, dumps_corpus, load_corpus, new_corpus, write_corpus
from tagger.core import Sentence, Span, TaggerError

SAMPLE_FORMATS = {
    "ner_klue.tsv": "klue",
    "ner_klue_dev.tsv": "klue",
    "ner_conll.tsv": "conll",
    "ner_sentence_tags.tsv": "sentence-tags",
    "classify.tsv": "text-label",
    "lm.txt": "text",
}
INTERCHANGE_SAMPLES = {  # doccano/Label Studio: read back as the same sentences, tests/test_interchange.py
    "ner_doccano.jsonl": "doccano",
    "ner_labelstudio.json": "labelstudio",
}

KLUE = (
    "## 헤더 줄\n"
    "## s-1\t<김 철:PS> 씨가 <서울:LC>에\n"
    "김\tB-PS\n \tI-PS\n철\tI-PS\n \tO\n씨\tO\n가\tO\n \tO\n서\tB-LC\n울\tI-LC\n에\tO\n"
    "\n"
    "## s-2\t< 부산:LC> 간다\n"
    " \tB-LC\n부\tI-LC\n산\tI-LC\n \tO\n간\tO\n다\tO\n"
    "\n"
)
CONLL = (
    "# 주석\n"
    "김철수\tNNP\tB-PS\n씨는\tNNB\tO\n서울\tNNP\tB-LC\n시청에\tNNG\tI-LC\n"
    "\n"
    "## 둘째\n"
    "갔다\tVV\tO\n"
)
SENTENCE_TAGS = "김철수  씨는 서울  시청에\tB-PS O B-LC I-LC\n오늘 비\tB-DT O\n"


def write(tmp_path, text, name="c.tsv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def assert_round_trip(path, **kw):
    corpus = load_corpus(path, **kw)
    assert not corpus.has_errors(), corpus.problems
    assert dumps_corpus(corpus) == path.read_bytes()
    return corpus


@pytest.mark.parametrize("name, fmt", sorted(SAMPLE_FORMATS.items()))
def test_samples_detected_and_round_trip(name, fmt):
    corpus = assert_round_trip(SAMPLES / name)
    assert corpus.format == fmt
    assert corpus.problems == []
    assert (5 if "dev" in name else 15) <= len(corpus.sentences) <= 60


@pytest.mark.parametrize("name", sorted(SAMPLE_FORMATS))
def test_crlf_bom_variants_round_trip(tmp_path, name):
    text = (SAMPLES / name).read_text(encoding="utf-8").replace("\n", "\r\n")
    path = write(tmp_path, codecs.BOM_UTF8 + text.encode("utf-8"))
    corpus = assert_round_trip(path)
    assert corpus.format == SAMPLE_FORMATS[name]
    assert corpus.meta["bom"] and corpus.meta["newline"] == "\r\n"
    assert "\r" not in "".join(s.text for s in corpus.sentences)


@pytest.mark.parametrize("name", ["ner_klue.tsv", "ner_conll.tsv", "classify.tsv"])
def test_cp949_round_trip(tmp_path, name):
    text = (SAMPLES / name).read_text(encoding="utf-8")
    path = write(tmp_path, text, encoding="cp949")
    corpus = assert_round_trip(path)
    assert corpus.encoding == "cp949"
    assert corpus.format == SAMPLE_FORMATS[name]
    utf = load_corpus(SAMPLES / name)
    assert [s.text for s in corpus.sentences] == [s.text for s in utf.sentences]


def test_klue_shared_files_round_trip(klue_dir):
    for name in ("train.tsv", "eval.tsv"):
        corpus = assert_round_trip(klue_dir / name)
        assert corpus.format == "klue" and corpus.problems == []
        assert len(corpus.meta["header"]) == 3
        assert not any("marked" in s.meta for s in corpus.sentences)
    assert sum(len(s.spans) for s in corpus.sentences) == 2873


def test_detect_format_fixtures():
    assert detect_format(KLUE) == "klue"
    assert detect_format("가\tO\n나\tB-PS\n\n다\tO\n") == "klue"
    assert detect_format(CONLL) == "conll"
    assert detect_format("서울\tB-LC\n에서\tO\n") == "conll"
    assert detect_format(SENTENCE_TAGS) == "sentence-tags"
    assert detect_format("가 나 다\tO B-PS\n서울 부산\tB-LC I-LC\n") == "sentence-tags"
    assert detect_format("좋아요\t긍정\n별로\t부정\n") == "text-label"
    assert detect_format("그냥 문장\n또 하나\n") == "text"
    assert detect_format("") == "text"


def test_read_klue(tmp_path):
    corpus = assert_round_trip(write(tmp_path, KLUE))
    assert corpus.format == "klue" and corpus.granularity == "char"
    assert corpus.meta["header"] == ["## 헤더 줄"]
    first, second = corpus.sentences
    assert (first.id, first.text, first.line) == ("s-1", "김 철 씨가 서울에", 2)
    assert first.spans == [Span(0, 3, "PS"), Span(7, 9, "LC")]
    assert second.text == " 부산 간다" and second.spans == [Span(0, 3, "LC")]
    assert corpus.units(second) == [(i, i + 1) for i in range(6)]
    assert corpus.gold_tags(second) == ["B-LC", "I-LC", "I-LC", "O", "O", "O"]
    assert corpus.entity_types() == ["LC", "PS"]


def test_read_conll(tmp_path):
    corpus = assert_round_trip(write(tmp_path, CONLL))
    assert corpus.format == "conll" and corpus.granularity == "word"
    first, second = corpus.sentences
    assert first.text == "김철수 씨는 서울 시청에"
    assert first.spans == [Span(0, 3, "PS"), Span(7, 13, "LC")]
    assert first.meta["cols"][0] == ["NNP"]
    assert second.text == "갔다" and second.line == 8
    assert corpus.gold_tags(first) == ["B-PS", "O", "B-LC", "I-LC"]


def test_read_sentence_tags_keeps_text_verbatim(tmp_path):
    corpus = assert_round_trip(write(tmp_path, SENTENCE_TAGS))
    first = corpus.sentences[0]
    assert first.text == "김철수  씨는 서울  시청에"
    assert first.spans == [Span(0, 3, "PS"), Span(8, 15, "LC")]
    assert corpus.units(first) == [(0, 3), (5, 7), (8, 10), (12, 15)]


def test_read_text_label_and_text(tmp_path):
    corpus = assert_round_trip(write(tmp_path, "좋아요 정말\t긍정\n\n별로\t부정"))
    assert [(s.text, s.label, s.line) for s in corpus.sentences] == [("좋아요 정말", "긍정", 1), ("별로", "부정", 3)]
    assert corpus.granularity is None and corpus.meta["final_newline"] is False
    corpus = assert_round_trip(write(tmp_path, "\n첫 문장\n\n\n둘째 문장\n\n"))
    assert [s.text for s in corpus.sentences] == ["첫 문장", "둘째 문장"]


@pytest.mark.parametrize("text, fmt", [
    ("## a\t<김:PS> <서울:LC>\n김\tS-PS\n \tO\n서\tB-LC\n울\tE-LC\n\n", "klue"),
    (KLUE.replace("B-PS", "PS-B").replace("I-PS", "PS-I").replace("B-LC", "LC-B").replace("I-LC", "LC-I"), "klue"),
    ("서울\tS-LC\n에서\tO\n\n부산\tB-LC\n시청\tE-LC\n", "conll"),
    ("서울\tU-LC\n에서\tO\n\n부산\tB-LC\n시청\tL-LC\n", "conll"),
    ("김철수 씨\tPS-B O\n", "sentence-tags"),
    (KLUE.rstrip("\n"), "klue"),
    (KLUE.replace("씨\tO\n", "씨\tO\n## 안쪽 주석\n"), "klue"),
    ("가\tO\n나\tB-PS\n\n\n다\tO", "klue"),
    ("# a\n서울\tB-LC\n# 중간\n에서\tO\n# 끝\n  \n\n# 다음\n부산\tB-LC\n\n# 꼬리\n", "conll"),
])
def test_scheme_style_and_layout_round_trip(tmp_path, text, fmt):
    corpus = assert_round_trip(write(tmp_path, text))
    assert corpus.format == fmt
    assert sum(len(s.spans) for s in corpus.sentences) >= 1


def test_suffix_bioes_meta(tmp_path):
    corpus = load_corpus(write(tmp_path, "서울\tLC-S\n에서\tO\n"), format="conll")
    assert (corpus.meta["scheme"], corpus.meta["style"]) == ("BIOES", "suffix")
    assert corpus.gold_tags(corpus.sentences[0]) == ["B-LC", "O"]


def test_edited_spans_export(tmp_path):
    for name in ("ner_klue.tsv", "ner_conll.tsv", "ner_sentence_tags.tsv"):
        corpus = load_corpus(SAMPLES / name)
        before = sum(len(s.spans) for s in corpus.sentences)
        corpus.sentences[0].spans.pop(0)
        out = tmp_path / name
        write_corpus(corpus, out)
        again = load_corpus(out)
        assert not again.has_errors()
        assert sum(len(s.spans) for s in again.sentences) == before - 1
        assert [s.spans for s in again.sentences] == [s.spans for s in corpus.sentences]


def test_klue_marked_text_regenerated_after_edit(tmp_path):
    corpus = load_corpus(write(tmp_path, KLUE))
    corpus.sentences[0].spans = [Span(7, 9, "OG")]
    text = dumps_corpus(corpus).decode("utf-8")
    assert "## s-1\t김 철 씨가 <서울:OG>에\n" in text


def test_klue_quirky_marked_text_kept_until_edit(tmp_path):
    quirky = KLUE.replace("<서울:LC>에", "<서울:LC>에 ")
    corpus = load_corpus(write(tmp_path, quirky))
    assert [p.level for p in corpus.problems] == ["warning"]
    assert dumps_corpus(corpus) == quirky.encode("utf-8")
    corpus.sentences[0].spans = corpus.sentences[0].spans[:1]
    assert "## s-1\t<김 철:PS> 씨가 서울에\n" in dumps_corpus(corpus).decode("utf-8")


def test_write_corpus_atomic(tmp_path):
    path = write(tmp_path, KLUE)
    corpus = load_corpus(path)
    corpus.sentences[1].spans = []
    write_corpus(corpus, path)
    assert os.listdir(tmp_path) == ["c.tsv"]
    assert load_corpus(path).sentences[1].spans == []


def test_write_corpus_failure_leaves_original(tmp_path, monkeypatch):
    path = write(tmp_path, KLUE)
    corpus = load_corpus(path)
    corpus.sentences[0].spans = []

    def boom(*a):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(TaggerError, match="c.tsv"):
        write_corpus(corpus, path)
    assert path.read_text(encoding="utf-8") == KLUE
    assert os.listdir(tmp_path) == ["c.tsv"]


def test_write_keeps_file_mode(tmp_path):
    path = write(tmp_path, KLUE)
    path.chmod(0o640)
    write_corpus(load_corpus(path), path)
    assert path.stat().st_mode & 0o777 == 0o640
    write_corpus(load_corpus(path), tmp_path / "new.tsv")
    assert (tmp_path / "new.tsv").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_explicit_encoding(tmp_path):
    path = write(tmp_path, "좋다\t긍정\n", encoding="euc-kr")
    corpus = load_corpus(path, encoding="euc-kr")
    assert corpus.sentences[0].label == "긍정" and corpus.encoding == "euc_kr"
    assert dumps_corpus(corpus) == path.read_bytes()
    with pytest.raises(TaggerError, match="unknown encoding"):
        load_corpus(path, encoding="klingon")


def test_unencodable_text_raises_before_touching_file(tmp_path):
    path = write(tmp_path, "좋아요\t긍정\n", encoding="cp949")
    corpus = load_corpus(path)
    corpus.sentences[0].text = "좋아요 😀"
    with pytest.raises(TaggerError, match="cp949"):
        write_corpus(corpus, path)
    assert path.read_bytes() == "좋아요\t긍정\n".encode("cp949")


def test_load_errors(tmp_path):
    with pytest.raises(TaggerError, match="nope.tsv: no such file"):
        load_corpus(tmp_path / "nope.tsv")
    with pytest.raises(TaggerError, match="is a directory"):
        load_corpus(tmp_path)
    with pytest.raises(TaggerError, match="unknown format"):
        load_corpus(write(tmp_path, "x\n"), format="xml")


@pytest.mark.parametrize("content", [b"", b"\n\n", "\ufeff".encode("utf-8")])
def test_empty_file(tmp_path, content):
    corpus = load_corpus(write(tmp_path, content))
    assert [(p.line, p.level, p.message) for p in corpus.problems] == [(0, "error", "empty file")]
    assert corpus.sentences == [] and dumps_corpus(corpus) == content


def test_format_override(tmp_path):
    corpus = load_corpus(write(tmp_path, "좋아요\t긍정\n"), format="text")
    assert corpus.format == "text" and corpus.sentences[0].text == "좋아요\t긍정"


def test_replace_and_new_corpus(tmp_path):
    corpus = load_corpus(SAMPLES / "ner_klue.tsv")
    fewer = corpus.replace(corpus.sentences[:2])
    assert isinstance(fewer, Corpus) and fewer.meta == corpus.meta and len(fewer.sentences) == 2
    assert fewer.problems == [] and fewer.format == "klue"
    sents = [Sentence("김 씨가 왔다", [Span(0, 1, "PS")]), Sentence("서울", [Span(0, 2, "LC")], id="x")]
    for fmt in ("klue", "conll", "sentence-tags"):
        out = tmp_path / f"pred.{fmt}"
        write_corpus(new_corpus(sents, fmt), out)
        again = load_corpus(out)
        assert again.format == fmt and again.problems == []
        assert [(s.text, s.spans) for s in again.sentences] == [(s.text, s.spans) for s in sents]
    assert (tmp_path / "pred.klue").read_text(encoding="utf-8").startswith("## sent-00001\t<김:PS> 씨가 왔다\n김\tB-PS\n")
    labelled = new_corpus([Sentence("좋다", label="긍정")], "text-label")
    assert dumps_corpus(labelled) == "좋다\t긍정\n".encode("utf-8")
    with pytest.raises(TaggerError):
        new_corpus([], "nope")
    assert set(FORMATS) == set(SAMPLE_FORMATS.values()) | set(INTERCHANGE_SAMPLES.values())
    assert all(load_corpus(SAMPLES / name).format == fmt for name, fmt in INTERCHANGE_SAMPLES.items())
