"""doccano JSONL and Label Studio JSON: reading the samples, the offsets rule
(code points; UTF-16 only when proven), refusals naming PATH:LINE and the task,
round trips (emoji, NFD), detection, validation, the CLI, and fuzzing."""
import json
import os
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_cli
from tagger.core import Sentence, Span, TaggerError
from tagger.corpus.load import detect_format, dumps_corpus, load_corpus, new_corpus
from tagger.corpus.validate import validate

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
DOCCANO, LS = SAMPLES / "ner_doccano.jsonl", SAMPLES / "ner_labelstudio.json"
NFD = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
FAST = ["--tokenizer", "char", "--hidden", "16", "--layers", "1", "--batch-size", "4", "--lr", "0.01",
        "--device", "cpu", "--epochs", "1"]


def surfaces(corpus):
    return [[(s.text[sp.start:sp.end], sp.label) for sp in s.spans] for s in corpus.sentences]


def write(tmp_path, name, text) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def reread(corpus, tmp_path, name="back"):
    path = tmp_path / name
    path.write_bytes(dumps_corpus(corpus))
    return load_corpus(path, format=corpus.format)


def task(text, *spans, tid=1, key="text", preds=()):
    item = lambda s, e, t, lab: {"from_name": "label", "to_name": "text", "type": "labels",  # noqa: E731
                                 "value": {"start": s, "end": e, "text": t, "labels": [lab]}}
    return {"id": tid, "data": {key: text}, "annotations": [{"result": [item(*sp) for sp in spans]}],
            "predictions": [{"result": [item(*sp) for sp in preds]}] if preds else []}


# ---- the samples --------------------------------------------------------------
def test_doccano_sample_reads_exact_spans_in_code_points():
    c = load_corpus(DOCCANO)
    assert c.format == "doccano" and c.granularity == "char" and not c.problems
    assert surfaces(c) == [[("김철수", "PS"), ("서울", "LC")], [("오늘", "DT"), ("이순신", "PS")],
                           [(NFD("부산"), "LC")], [("한국은행", "OG")], [("삼성전자", "OG")]]
    assert c.sentences[1].spans == [Span(2, 4, "DT"), Span(5, 8, "PS")]       # after the emoji
    assert c.sentences[2].spans == [Span(0, 5, "LC")]                          # NFD: 5 jamo
    assert [s.id for s in c.sentences] == ["1", "2", "3", "4", "5"] and [s.line for s in c.sentences] == [1, 2, 3, 4, 5]


def test_labelstudio_sample_reads_latest_annotation_utf16_proven_and_predictions():
    c = load_corpus(LS)
    assert c.format == "labelstudio" and c.granularity == "char" and not c.has_errors()
    assert surfaces(c) == [[("홍길동", "PS"), ("부산", "LC")], [("세종대왕", "PS"), ("한글", "AF")],
                           [(NFD("대전"), "LC")], []]
    assert c.sentences[1].spans == [Span(2, 6, "PS"), Span(8, 10, "AF")]     # UTF-16 3..7 -> 2..6
    assert c.sentences[2].text == NFD("대전에서 만나자.")                       # data.sentence: the one string
    assert c.sentences[0].meta["suggestions"] == [Span(0, 3, "PS")]
    assert c.sentences[3].meta["suggestions"] == [Span(0, 3, "PS"), Span(5, 7, "LC")]
    lines = LS.read_text(encoding="utf-8").split("\n")
    assert [lines[s.line - 1].strip() for s in c.sentences] == ["{"] * 4
    warn = {p.line: p.message for p in c.problems}
    assert "UTF-16" in warn[c.sentences[1].line] and "task 102" in warn[c.sentences[1].line]
    assert "no annotation" in warn[c.sentences[3].line]


def test_labelstudio_annotator_picks_their_annotation():
    c = load_corpus(LS, annotator="2")
    assert surfaces(c)[1] == [("세종대왕", "PS")] and surfaces(c)[0] == []
    assert any("no annotation by 2" in p.message for p in c.problems)


# ---- offsets: proven, converted, refused ---------------------------------------
def test_labelstudio_shifted_span_is_refused_naming_line_and_task(tmp_path):
    tasks = [task("서울에 간다", (0, 2, "서울", "LC")),
             task("😀 김철수가 왔다", (3, 6, "김철수", "PS"), (4, 6, "김철", "PS"), tid=7)]
    path = write(tmp_path, "ls.json", json.dumps(tasks, ensure_ascii=False, indent=2))
    c = load_corpus(path)
    assert surfaces(c) == [[("서울", "LC")], [("김철수", "PS")]]      # 3..6 UTF-16 = 2..5 code points
    errors = [p for p in c.problems if p.level == "error"]
    assert len(errors) == 1 and errors[0].line == c.sentences[1].line
    assert str(errors[0]).startswith(f"{path}:{c.sentences[1].line}: error: task 7:")
    assert "does not match its text '김철'" in errors[0].message


def test_doccano_out_of_range_span_is_an_error_on_its_line(tmp_path):
    path = write(tmp_path, "d.jsonl", '{"text": "서울"}\n{"text": "부산에", "label": [[0, 9, "LC"], [0, 2, "LC"]]}\n')
    c = load_corpus(path)
    assert [p.line for p in c.problems if p.level == "error"] == [2] and surfaces(c) == [[], [("부산", "LC")]]
    assert "outside the text" in c.problems[0].message


def test_doccano_file_that_only_fits_utf16_is_converted_with_a_warning(tmp_path):
    recs = [{"text": "가나다", "label": [[0, 2, "A"]]}, {"text": "😀😀 세종", "label": [[5, 7, "PS"]]}]
    path = write(tmp_path, "d.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in recs))
    c = load_corpus(path)
    assert surfaces(c) == [[("가나", "A")], [("세종", "PS")]] and not c.has_errors()
    assert [(p.line, p.level) for p in c.problems] == [(2, "warning")] and "UTF-16" in c.problems[0].message


def test_overlaps_keep_the_first_and_warn(tmp_path):
    path = write(tmp_path, "d.jsonl", '{"text": "김철수 씨", "label": [[0, 3, "PS"], [1, 5, "X"], [0, 3, "PS"]]}\n')
    c = load_corpus(path)
    assert c.sentences[0].spans == [Span(0, 3, "PS")] and not c.has_errors()
    assert [p.line for p in c.problems] == [1, 1] and all("overlaps" in p.message for p in c.problems)


def test_bad_json_names_its_line(tmp_path):
    c = load_corpus(write(tmp_path, "d.jsonl", '{"text": "가", "label": []}\n{"text": oops}\n'), format="doccano")
    assert [(p.line, p.level) for p in c.problems] == [(2, "error")] and len(c.sentences) == 1
    c = load_corpus(write(tmp_path, "l.json", '[\n  {"data": {"text": "가"}},\n  {"data": \n'), format="labelstudio")
    assert c.has_errors() and c.problems[0].line == 4 and "not valid JSON" in c.problems[0].message


# ---- round trips ------------------------------------------------------------------
TRICKY = [Sentence("😀 오늘 이순신 장군", [Span(2, 4, "DT"), Span(5, 8, "PS")]),
          Sentence(NFD("부산에서 만나요"), [Span(0, 5, "LC")]),
          Sentence("👨🏻‍🚒 소방관\t김철수", [Span(9, 12, "PS")]),
          Sentence("빈 문장", [])]


@pytest.mark.parametrize("fmt", ["doccano", "labelstudio"])
def test_new_corpus_round_trips_emoji_and_nfd(tmp_path, fmt):
    back = reread(new_corpus(TRICKY, fmt), tmp_path)
    assert not back.problems, back.problems
    assert [(s.text, s.spans) for s in back.sentences] == [(s.text, s.spans) for s in TRICKY]


def test_labelstudio_export_is_what_its_ner_template_imports():
    tasks = json.loads(dumps_corpus(new_corpus(TRICKY[:1], "labelstudio")))
    (ann,) = tasks[0]["annotations"]
    assert tasks[0]["data"] == {"text": TRICKY[0].text}
    item = ann["result"][1]
    assert (item["from_name"], item["to_name"], item["type"]) == ("label", "text", "labels")
    assert item["value"] == {"start": 5, "end": 8, "text": "이순신", "labels": ["PS"]}   # code points


@pytest.mark.parametrize("path", [DOCCANO, LS])
def test_samples_round_trip_with_their_other_keys(tmp_path, path):
    c = load_corpus(path)
    back = reread(c, tmp_path, path.name)
    assert [(s.text, s.spans, s.id) for s in back.sentences] == [(s.text, s.spans, s.id) for s in c.sentences]
    assert [s.meta.get("suggestions") for s in back.sentences] == [s.meta.get("suggestions") for s in c.sentences]
    out = dumps_corpus(c).decode("utf-8")
    if path == DOCCANO:
        recs = [json.loads(line) for line in out.splitlines()]
        assert recs[0]["meta"] == {"source": "hand"} and recs[2]["Comments"] == [] and "labels" in recs[3]
        assert recs[4]["entities"] == [{"id": 11, "label": "OG", "start_offset": 0, "end_offset": 4}]
    else:
        tasks = json.loads(out)
        assert [t["id"] for t in tasks] == [101, 102, 103, 104] and tasks[2]["data"]["n"] == 3
        assert len(tasks[1]["annotations"]) == 3 and tasks[0]["predictions"][0]["model_version"] == "v1"
        assert tasks[1]["annotations"][1]["result"][0]["value"]["start"] == 2      # now code points
        assert not back.problems or all("no annotation" in p.message for p in back.problems)


def test_corrected_spans_are_written_into_the_chosen_annotation(tmp_path):
    c = load_corpus(LS)
    fixed = c.replace([Sentence(s.text, [Span(0, 2, "X")] if i == 3 else s.spans, s.id, meta=s.meta)
                       for i, s in enumerate(c.sentences)])
    back = reread(fixed, tmp_path)
    assert back.sentences[3].spans == [Span(0, 2, "X")] and surfaces(back)[1] == surfaces(c)[1]


# ---- detection and validation --------------------------------------------------------
def test_detection_picks_the_json_formats_and_nothing_else():
    assert detect_format(DOCCANO.read_text(encoding="utf-8")) == "doccano"
    assert detect_format(LS.read_text(encoding="utf-8")) == "labelstudio"
    for name, fmt in [("ner_klue.tsv", "klue"), ("ner_conll.tsv", "conll"), ("pos_conll.tsv", "conll"),
                      ("ner_sentence_tags.tsv", "sentence-tags"), ("classify.tsv", "text-label"), ("lm.txt", "text")]:
        assert detect_format((SAMPLES / name).read_text(encoding="utf-8")) == fmt, name
    assert detect_format("[속보] 서울에 눈\n{중괄호} 문장\n") == "text"
    assert detect_format("{\tO\n}\tO\n") != "doccano"


def test_validate_reports_problems_with_lines(tmp_path):
    path = write(tmp_path, "d.jsonl", '{"text": "가나", "label": [[0, 5, "A"]]}\n{"text": 5}\n{"text": "다", "label": [[0, 1, ""]]}\n')
    rep = validate(load_corpus(path))
    assert rep["format"] == "doccano" and rep["sentences"] == 2 and rep["errors"] == 3
    assert [p["line"] for p in rep["problems"]] == [1, 2, 3]


# ---- the CLI -------------------------------------------------------------------------------
def test_cli_validate_and_train_on_the_samples(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "validate", DOCCANO, "--format", "doccano", "--json")
    assert code == 0 and json.loads(out)["format"] == "doccano" and json.loads(out)["sentences"] == 5
    code, out, _ = run_cli(capsys, "validate", LS, "--json")
    assert code == 0 and json.loads(out)["entities"] == {"AF": 1, "LC": 2, "PS": 2}
    code, _, errs = run_cli(capsys, "train", "--train", LS, "--format", "labelstudio", *FAST, "--out", tmp_path / "m")
    assert code == 0, errs
    assert "Traceback" not in errs


# ---- fuzzing --------------------------------------------------------------------------------
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=int(os.environ.get("FUZZ_DEADLINE_MS", "2000")), database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_DIR = Path(tempfile.mkdtemp(prefix="fuzz-interchange-"))
PIECES = ["김", "철수", "서울", NFD("부산"), NFD("한"), "😀", "👨🏻‍🚒", "e\u0301", "\u0301", "\t", " ", "a", "\u200d", "️"]
texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join).filter(lambda t: t.strip())


@st.composite
def labelled(draw):
    """A text and sorted non-overlapping code-point spans."""
    text = draw(texts)
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=6))))
    pairs = [(a, b) for a, b in zip(cuts[::2], cuts[1::2]) if a < b]
    return Sentence(text, [Span(a, b, draw(st.sampled_from(["PS", "LC"]))) for a, b in pairs])


def _utf16(text, i):
    return len(text[:i].encode("utf-16-le")) // 2


def _file(fmt, sentences, utf16):
    if fmt == "doccano":
        return "\n".join(json.dumps({"text": s.text, "label": [[a.start, a.end, a.label] for a in s.spans]},
                                    ensure_ascii=False) for s in sentences)
    conv = (lambda t, i: _utf16(t, i)) if utf16 else (lambda t, i: i)
    return json.dumps([task(s.text, *[(conv(s.text, a.start), conv(s.text, a.end), s.text[a.start:a.end], a.label)
                                      for a in s.spans], tid=k) for k, s in enumerate(sentences)], ensure_ascii=False)


def _loads_cleanly(path, data, fmt=None):
    try:
        c = load_corpus(path, format=fmt)
    except TaggerError as err:
        assert str(err).startswith(str(path))
        return None
    n_lines = data.count("\n") + 1
    assert all(0 <= p.line <= n_lines and p.level in ("error", "warning") for p in c.problems), c.problems
    for s in c.sentences:
        assert all(0 <= sp.start < sp.end <= len(s.text) for sp in s.spans)
    return c


@FUZZ
@given(sentences=st.lists(labelled(), min_size=1, max_size=4), fmt=st.sampled_from(["doccano", "labelstudio"]),
       utf16=st.booleans())
def test_generated_files_load_with_exact_spans_or_problems_and_write_back_identically(sentences, fmt, utf16):
    data = _file(fmt, sentences, utf16 and fmt == "labelstudio")
    path = _DIR / f"gen.{fmt}"
    path.write_text(data, encoding="utf-8")
    c = _loads_cleanly(path, data)
    assert c is not None and c.format == fmt and len(c.sentences) == len(sentences)
    if not any(p.level == "error" for p in c.problems):
        for got, want in zip(c.sentences, sentences):
            if not utf16 or fmt == "doccano":
                assert got.spans == want.spans
            else:   # a UTF-16 span whose code-point reading has the same text is taken in code points
                have = [(got.text[s.start:s.end], s.label) for s in got.spans]
                wanted = [(want.text[s.start:s.end], s.label) for s in want.spans]
                assert all(h in wanted for h in have)
                assert len(have) == len(wanted) or any("overlaps" in p.message for p in c.problems)
    back = reread(c, _DIR, f"back.{fmt}")
    assert [(s.text, s.spans) for s in back.sentences] == [(s.text, s.spans) for s in c.sentences]


spans_any = st.lists(st.tuples(st.integers(-2, 12), st.integers(-2, 12), st.sampled_from(["PS", "", 3, None])),
                     max_size=4)


@FUZZ
@given(text=texts, spans=spans_any, fmt=st.sampled_from(["doccano", "labelstudio"]),
       surface=st.sampled_from([None, "cp", "other"]), cut=st.integers(0, 400))
def test_random_spans_and_truncations_never_raise(text, spans, fmt, surface, cut):
    if fmt == "doccano":
        data = json.dumps({"text": text, "label": [list(s) for s in spans]}, ensure_ascii=False)
    else:
        items = [{"type": "labels", "value": {"start": a, "end": b, "labels": [lab],
                  **({} if surface is None else {"text": text[a:b] if surface == "cp" else "가"})}} for a, b, lab in spans]
        data = json.dumps([{"id": 1, "data": {"text": text}, "annotations": [{"result": items}]}], ensure_ascii=False,
                          indent=1)
    data = data[:cut] if cut < len(data) else data
    path = _DIR / f"rnd.{fmt}"
    path.write_text(data, encoding="utf-8")
    c = _loads_cleanly(path, data, fmt)
    if c is not None and not c.has_errors():
        back = reread(c, _DIR, f"rback.{fmt}")
        assert [(s.text, s.spans) for s in back.sentences] == [(s.text, s.spans) for s in c.sentences]


@pytest.mark.parametrize("path", [DOCCANO, LS])
def test_review_export_writes_the_datasets_own_format(tmp_path, path):
    from tagger.workspace.annotate import export_corrected
    from tagger.workspace.store import Workspace
    ws = Workspace(tmp_path / "ws")
    d, _ = ws.add_dataset(path.name, path.read_bytes())
    out = export_corrected(ws, d["id"])
    assert out["format"] == d["format"] and out["problems"] == [] and out["filename"].endswith(path.suffix)
    back = write(tmp_path, "exported" + path.suffix, out["data"].decode("utf-8"))
    assert surfaces(load_corpus(back)) == surfaces(load_corpus(path))
