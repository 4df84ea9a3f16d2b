"""Bad input: every corpus reader and the validator, fuzzed with hypothesis.

Random bytes, and tiny valid files of each format truncated and mutated, in
each encoding (UTF-8, UTF-8 with BOM, CP949, CRLF newlines), read with the
format given and auto-detected. The only outcomes allowed: a usable corpus
(every span inside its sentence, gold tags computable, a validation report
whose problems all name a line of the file, and, when nothing is reported,
written back byte for byte; for the JSON formats, doccano and Label Studio,
read back as the same sentences) or a TaggerError; never another
exception, never more than the deadline per example.

CI runs a few hundred examples (``FUZZ_EXAMPLES``, default 60 per test); run
many thousands once with e.g. ``FUZZ_EXAMPLES=5000 pytest tests/test_reliability_input.py``.
"""
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tagger.corpus.load import FORMATS, dumps_corpus, load_corpus, new_corpus
from tagger.core import Sentence, Span, TaggerError
from tagger.corpus.validate import validate

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
DEADLINE_MS = int(os.environ.get("FUZZ_DEADLINE_MS", "2000"))  # per example, generous on a shared CPU
settings.register_profile("reliability", max_examples=EXAMPLES, deadline=DEADLINE_MS, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FUZZ = settings.get_profile("reliability")

SEEDS = {
    "klue": "## s-1\t<김철수:PS>는 <서울:LC>에\n김\tB-PS\n철\tI-PS\n수\tI-PS\n는\tO\n \tO\n서\tB-LC\n"
            "울\tI-LC\n에\tO\n\n## s-2\t간다\n간\tO\n다\tO\n",
    "conll": "# 주석\n김철수\tNNP\tS-PS\n씨는\tNNB\tO\n서울\tNNP\tS-LC\n\n갔다\tVV\tO\n",
    "sentence-tags": "김철수 씨는 서울 시청에\tPS-B O LC-B LC-I\n오늘 비\tDT-B O\n",
    "text-label": "정말 좋은 영화였다\tpos\n별로였다\tneg\n",
    "text": "첫 문장이다.\n\n둘째 문장, 그리고 셋째!\n",
    "doccano": '{"id": 1, "text": "김철수는 서울에", "label": [[0, 3, "PS"], [5, 7, "LC"]]}\n'
               '{"text": "간다", "label": []}\n',
}
SEEDS["labelstudio"] = dumps_corpus(new_corpus(    # our own export: it reads back byte for byte
    [Sentence("김철수는 서울에", [Span(0, 3, "PS"), Span(5, 7, "LC")]), Sentence("간다")], "labelstudio")).decode()
JSON_FORMATS = ("doccano", "labelstudio")  # written back as the same sentences, not byte for byte
ENCODINGS = ("utf-8", "utf-8-sig", "cp949", "utf-8+crlf", "cp949+crlf")
NEAR = list("\t\n\r #<>:-_ ") + ["B-PS", "I-", "O", "##", "\ufeff", "\x00", "ㄱ", "가", "\udc80"]
_DIR = Path(tempfile.mkdtemp(prefix="fuzz-corpus-"))


def encode(text: str, encoding: str) -> bytes:
    codec, _, crlf = encoding.partition("+")
    if crlf:
        text = text.replace("\n", "\r\n")
    return text.encode(codec, errors="surrogateescape" if codec.startswith("utf") else "replace") \
        if codec != "cp949" else text.encode(codec, errors="replace")


@st.composite
def mutated(draw):
    """A seed file in some encoding, then truncated, spliced and overwritten at random places."""
    fmt = draw(st.sampled_from(sorted(SEEDS)))
    text = SEEDS[fmt]
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "repeat"]))
        if kind == "insert":
            text = text[:at] + draw(st.sampled_from(NEAR) | st.text(max_size=6)) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)):]
        else:
            text = text[:at] + text[at:at + 12] * draw(st.integers(2, 30)) + text[at:]
    data = encode(text.replace("\udc80", "\x80"), draw(st.sampled_from(ENCODINGS)))
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]   # truncated, maybe mid-character
    for _ in range(draw(st.integers(0, 3))):             # raw byte damage
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at + 1:]
    return data


def check_outcome(data: bytes, fmt, encoding=None) -> None:
    """The promise: a usable corpus or a TaggerError, problems on real lines."""
    path = _DIR / "fuzzed.tsv"
    path.write_bytes(data)
    try:
        corpus = load_corpus(path, format=fmt, encoding=encoding)
    except TaggerError as err:
        assert str(err).startswith(str(path)), err
        return
    n_lines = data.count(b"\n") + 1
    for s in corpus.sentences:
        assert all(0 <= sp.start < sp.end <= len(s.text) for sp in s.spans), s
        assert len(corpus.gold_tags(s)) == len(corpus.units(s))
    report = validate(corpus)
    assert report["sentences"] == len(corpus.sentences)
    for p in report["problems"]:
        assert 0 <= p["line"] <= n_lines and p["level"] in ("error", "warning") and p["message"], p
    if not corpus.sentences:
        assert report["errors"], "a file with no sentence is reported"
    if not corpus.problems and corpus.format in JSON_FORMATS:   # the same sentences read back
        back = _DIR / "fuzzed.back"
        back.write_bytes(dumps_corpus(corpus))
        again = load_corpus(back, format=corpus.format, encoding=corpus.encoding)
        assert [(s.text, s.spans) for s in again.sentences] == [(s.text, s.spans) for s in corpus.sentences]
    elif not corpus.problems:          # nothing reported: written back byte for byte
        assert dumps_corpus(corpus) == data
    else:
        try:
            dumps_corpus(corpus)
        except TaggerError:
            pass


@FUZZ
@given(data=st.binary(max_size=400), fmt=st.sampled_from([None, *FORMATS]))
def test_random_bytes_give_a_corpus_or_clear_problems(data, fmt):
    check_outcome(data, fmt)


@FUZZ
@given(data=mutated(), fmt=st.sampled_from([None, *FORMATS]),
       encoding=st.sampled_from([None, None, "utf-8", "cp949", "euc-kr"]))
def test_mutated_files_in_every_format_and_encoding_give_a_corpus_or_clear_problems(data, fmt, encoding):
    check_outcome(data, fmt, encoding)


@pytest.mark.parametrize("fmt", sorted(SEEDS))
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_valid_seeds_read_without_errors_in_every_encoding(fmt, encoding):
    """The fuzzing starts from files that are valid: read back clean, detected right."""
    path = _DIR / f"seed-{fmt}-{encoding}.tsv"
    path.write_bytes(encode(SEEDS[fmt], encoding))
    corpus = load_corpus(path)
    assert corpus.format == fmt and not corpus.has_errors(), corpus.problems
    assert dumps_corpus(corpus) == path.read_bytes()


@FUZZ
@given(texts=st.lists(st.text(max_size=12), min_size=0, max_size=4),
       spans=st.lists(st.tuples(st.integers(-3, 15), st.integers(-3, 15), st.sampled_from(["PS", "LC", ""])),
                      max_size=5),
       fmt=st.sampled_from(FORMATS))
def test_validator_reports_bad_sentences_built_in_memory_and_never_raises(texts, spans, fmt):
    from tagger.corpus.load import Corpus
    from tagger.core import Sentence, Span
    sentences = [Sentence(t, [Span(a, b, lab) for a, b, lab in spans], line=i + 1) for i, t in enumerate(texts)]
    report = validate(Corpus("<memory>", fmt, "utf-8", sentences))
    bad = sum(1 for s in sentences for sp in s.spans if not 0 <= sp.start < sp.end <= len(s.text))
    assert report["errors"] >= bool(bad) and report["sentences"] == len(texts)


@settings(FUZZ, max_examples=max(10, EXAMPLES // 3))
@given(data=st.one_of(mutated(), st.binary(max_size=300)))
def test_fuzzed_uploads_are_stored_with_a_report_naming_lines_or_refused_clearly(data):
    from tagger.workspace import datasets as ws_data
    from tagger.workspace.store import Workspace
    ws = Workspace(_DIR / "ws")
    try:
        d, _ = ws.add_dataset("fuzz.tsv", data)
    except TaggerError as err:
        assert "fuzz.tsv" in str(err)
        return
    rep = ws_data.report(ws, d["id"])
    assert all(row["location"].startswith("fuzz.tsv:") for row in rep["problem_rows"])
    assert ws.raw_bytes(d["id"]) == data                        # kept byte for byte
    ws_data.statistics(ws, d["id"])


@pytest.mark.parametrize("data, line, says", [
    (b"a\tB-PS\r\n\r\nb\tO\n", 3, "LF in a file of CRLF"),                     # mixed line ends
    ("김철수 씨는 서울\tB-PS O S-LC\n".encode(), 1, "mixes tagging schemes"),   # B- beside S-
    ("김철수 씨는\tPS-B  O\n".encode(), 1, "extra whitespace in the TAGS"),     # two spaces
    ("오늘 비\tDT-B O\r\n내일\tO\r".encode(), 2, "extra whitespace in the TAGS"),  # a stray CR at the end
])
def test_files_that_would_not_write_back_identically_say_so_on_their_line(data, line, says):
    """Found by the fuzzing above: these read without a problem but were written back changed."""
    path = _DIR / "changed.tsv"
    path.write_bytes(data)
    corpus = load_corpus(path)
    assert any(p.line == line and says in p.message for p in corpus.problems), corpus.problems
    assert not corpus.has_errors()
