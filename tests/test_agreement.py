"""Two annotators: per-reviewer views and blind mode, agreement (span F1,
unit-level Cohen's kappa, disagreements) against a case computed by hand and
against sklearn, adjudication (pick, merge, edit, undo) and the export of the
adjudicated version, and an old workspace opening with the new column."""
import json
import shutil
import sqlite3
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as hs
from sklearn.metrics import cohen_kappa_score

from tagger import TaggerError
from tagger.core import Span
from tagger.core.metrics import cohen_kappa
from tagger.core.units import units
from tagger.corpus.load import load_corpus
from tagger.scoring import annotator_agreement, span_agreement, unit_labels
from tagger.workspace import agreement as ag
from tagger.workspace import status as st
from tagger.workspace.annotate import export_corrected
from tagger.workspace.annotators import annotations, blind_spans, reviewers, spans_for
from tagger.workspace.store import Workspace

LEGACY = Path(__file__).resolve().parent / "fixtures" / "legacy"

# Five sentences of four words (three in the last), sentence-tags format: units are words.
TEXTS = ["김철수 씨는 서울에 갔다", "삼성전자 주가가 어제 올랐다", "부산 해변에 관광객이 많다",
         "오늘 이순신 장군을 만났다", "그냥 무난한 영화"]
TAGS = ["B-PS O B-LC O", "B-OG O B-DT O", "B-LC O O O", "B-DT B-PS O O", "O O O"]
DATA = "".join(f"{t}\t{g}\n" for t, g in zip(TEXTS, TAGS)).encode("utf-8")


def w(i: int, first: int, last: int, label: str) -> Span:
    """The span over words ``first..last`` of sentence ``i``."""
    us = units(TEXTS[i], "word")
    return Span(us[first][0], us[last][1], label)


# The hand-computed case. Original spans, then kim (A) and lee (B):
#   S0  orig {PS w0, LC w2}  A accepts         -> {PS0, LC2}   B accepts          -> {PS0, LC2}
#   S1  orig {OG w0, DT w2}  A corrects        -> {OG0}        B accepts          -> {OG0, DT2}
#   S2  orig {LC w0}         A accepts         -> {LC0}        B corrects         -> {OG0}
#   S3  orig {DT w0, PS w1}  A accepts         -> {DT0, PS1}   B corrects         -> {DT0, PS1-2}
#   S4  orig {}              A accepts         -> {}           B skips            -> (none)
# Compared: S0..S3 (both annotated). |A| = 2+1+1+2 = 6, |B| = 2+2+1+2 = 7,
# |A∩B| = 2 (S0) + 1 (OG0, S1) + 0 (S2) + 1 (DT0, S3) = 4  ->  F1 = 2*4/(6+7) = 8/13.
# Per type:  PS  A {S0 PS0, S3 PS1}  B {S0 PS0, S3 PS1-2}  both 1  ->  2*1/(2+2) = 1/2
#            LC  A {S0 LC2, S2 LC0}  B {S0 LC2}            both 1  ->  2*1/(2+1) = 2/3
#            OG  A {S1 OG0}          B {S1 OG0, S2 OG0}    both 1  ->  2/3
#            DT  A {S3 DT0}          B {S1 DT2, S3 DT0}    both 1  ->  2/3
# Disagreements: S1, S2, S3 (3).
# Kappa over the 16 words, each labelled with its type (B-/I- dropped) or O:
#   S0  A PS O LC O   B PS O LC O   4 alike
#   S1  A OG O O  O   B OG O DT O   3 alike
#   S2  A LC O O  O   B OG O O  O   3 alike
#   S3  A DT PS O O   B DT PS PS O  3 alike      p_o = 13/16
# Marginals: A  PS 2, LC 2, OG 1, DT 1, O 10;   B  PS 3, LC 1, OG 2, DT 2, O 8.
#   p_e = (2*3 + 2*1 + 1*2 + 1*2 + 10*8) / 16^2 = 92/256 = 23/64
#   kappa = (13/16 - 23/64) / (1 - 23/64) = (29/64) / (41/64) = 29/41
F1, KAPPA = Fraction(8, 13), Fraction(29, 41)
PER_TYPE = {"DT": Fraction(2, 3), "LC": Fraction(2, 3), "OG": Fraction(2, 3), "PS": Fraction(1, 2)}
A = [[w(0, 0, 0, "PS"), w(0, 2, 2, "LC")], [w(1, 0, 0, "OG")], [w(2, 0, 0, "LC")],
     [w(3, 0, 0, "DT"), w(3, 1, 1, "PS")]]
B = [[w(0, 0, 0, "PS"), w(0, 2, 2, "LC")], [w(1, 0, 0, "OG"), w(1, 2, 2, "DT")], [w(2, 0, 0, "OG")],
     [w(3, 0, 0, "DT"), w(3, 1, 2, "PS")]]


@pytest.fixture
def ws(tmp_path):
    return Workspace(tmp_path / "ws")


@pytest.fixture
def did(ws):
    d, _ = ws.add_dataset("two.tsv", DATA, format="sentence-tags")
    return d["id"]


@pytest.fixture
def blind(ws, did):
    """The two blind passes of the hand-computed case."""
    for i in (0, 2, 3, 4):
        st.accept(ws, did, i, "kim")
    st.correct(ws, did, 1, A[1], "kim")
    for i in (0, 1):
        st.accept(ws, did, i, "lee")
    st.correct(ws, did, 2, B[2], "lee")
    st.correct(ws, did, 3, B[3], "lee")
    st.skip(ws, did, 4, "lee")
    return did


def test_the_original_spans_are_the_ones_in_the_comment(ws, did):
    assert [sorted(s.spans) for s in ws.corpus(did).sentences[:4]] == \
        [sorted(A[0]), sorted(B[1]), sorted(A[2]), sorted(A[3])]


def test_hand_computed_figures_pure():
    texts = TEXTS[:4]
    got = annotator_agreement(texts, A, B, "word")
    assert got["f1"] == float(F1) and (got["a"], got["b"], got["both"]) == (6, 7, 4)
    assert {t: v["f1"] for t, v in got["per_type"].items()} == {t: float(f) for t, f in PER_TYPE.items()}
    assert got["per_type"]["PS"] == {"f1": 0.5, "a": 2, "b": 2, "both": 1}
    assert got["kappa"] == float(KAPPA) and got["observed"] == 13 / 16 and got["units"] == 16
    assert got["disagree"] == [1, 2, 3] and got["sentences"] == 4
    la = [x for t, s in zip(texts, A) for x in unit_labels(t, s, "word")]
    lb = [x for t, s in zip(texts, B) for x in unit_labels(t, s, "word")]
    assert lb[12:] == ["DT", "PS", "PS", "O"]  # B-PS I-PS: one label, the type
    assert cohen_kappa_score(la, lb) == pytest.approx(float(KAPPA), abs=1e-12)


def test_hand_computed_figures_from_the_workspace(ws, blind):
    rep = ag.agreement(ws, blind, "kim", "lee")
    assert rep["reviewers"] == ["kim", "lee"] and rep["compared"] == [0, 1, 2, 3]
    assert rep["only_a"] == [4] and rep["only_b"] == []
    assert rep["f1"] == float(F1) and rep["kappa"] == float(KAPPA)
    assert {t: v["f1"] for t, v in rep["per_type"].items()} == {t: float(f) for t, f in PER_TYPE.items()}
    assert rep["disagreeing"] == 3
    assert rep["disagreements"][0] == {"index": 1, "text": TEXTS[1], "a": A[1], "b": sorted(B[1]),
                                       "adjudicated": False}
    assert [d["index"] for d in rep["disagreements"]] == [1, 2, 3]
    back = ag.agreement(ws, blind, "lee", "kim")  # symmetric
    assert (back["f1"], back["kappa"], back["disagreeing"]) == (rep["f1"], rep["kappa"], 3)
    none = ag.agreement(ws, blind, "kim", "park")
    assert none["sentences"] == 0 and none["f1"] is None and none["kappa"] is None


def test_kappa_edge_cases():
    assert cohen_kappa([], []) is None
    assert cohen_kappa(["O"] * 5, ["O"] * 5) == 1.0  # p_e = 1: agreement on everything
    assert cohen_kappa(["a", "b"], ["b", "a"]) == -1.0
    with pytest.raises(ValueError):
        cohen_kappa(["a"], [])
    assert span_agreement([[], []], [[], []])["f1"] == 1.0 and span_agreement([], [])["f1"] is None


labels = hs.lists(hs.sampled_from(["O", "PS", "LC", "OG"]), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(hs.data())
def test_kappa_equals_sklearn(data):
    a = data.draw(labels)
    b = data.draw(hs.lists(hs.sampled_from(["O", "PS", "LC", "OG"]), min_size=len(a), max_size=len(a)))
    if len(set(a) | set(b)) == 1:  # p_e = 1: sklearn gives nan, here 1.0
        assert cohen_kappa(a, b) == 1.0
    else:
        assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-9)


def spans_in(n: int):
    """Up to three spans (of 1 to 3 code points, types X/Y/Z) in a text of length ``n``."""
    one = hs.tuples(hs.integers(0, n - 1), hs.integers(1, 3), hs.sampled_from("XYZ"))
    return hs.lists(one, max_size=3).map(lambda xs: [Span(s, min(s + k, n), lab) for s, k, lab in xs])


@settings(max_examples=100, deadline=None)
@given(hs.lists(hs.text(alphabet="ab ", min_size=1, max_size=12), min_size=1, max_size=4), hs.data(),
       hs.sampled_from(["char", "word"]))
def test_identical_kappa_is_one_and_f1_is_symmetric(texts, data, gran):
    a = [data.draw(spans_in(len(t))) for t in texts]
    b = [data.draw(spans_in(len(t))) for t in texts]
    same = annotator_agreement(texts, a, a, gran)
    # no units at all (a text of spaces, by words): nothing to compare, so no kappa
    assert same["kappa"] == (1.0 if same["units"] else None) and same["f1"] == 1.0 and same["disagree"] == []
    ab, ba = annotator_agreement(texts, a, b, gran), annotator_agreement(texts, b, a, gran)
    assert ab["f1"] == ba["f1"] and ab["kappa"] == pytest.approx(ba["kappa"])
    assert {t: v["f1"] for t, v in ab["per_type"].items()} == {t: v["f1"] for t, v in ba["per_type"].items()}


def test_per_reviewer_views_and_blind_mode(ws, blind):
    orig = [sorted(s.spans) for s in ws.corpus(blind).sentences]
    assert ws.corrections(blind, "kim") == {1: A[1]}
    assert ws.corrections(blind, "lee") == {2: B[2], 3: sorted(B[3])}
    assert ws.corrections(blind) == {1: A[1], 2: B[2], 3: sorted(B[3])}  # by anyone, as before
    assert annotations(ws, blind, "kim") == {0: orig[0], 1: A[1], 2: orig[2], 3: orig[3], 4: []}
    assert annotations(ws, blind, "lee") == {0: orig[0], 1: orig[1], 2: B[2], 3: sorted(B[3])}
    assert blind_spans(ws, blind, "kim") == [orig[0], A[1], orig[2], orig[3], orig[4]]
    assert spans_for(ws, blind, 2, "kim") == orig[2]          # lee's correction stays hidden
    assert spans_for(ws, blind, 2, "lee") == B[2]
    assert spans_for(ws, blind, 2, "kim", blind=False) == B[2]  # not blind: the latest by anyone
    assert spans_for(ws, blind, 0, "nobody") == orig[0]
    assert reviewers(ws, blind) == {
        "kim": {"accepted": 4, "corrected": 1, "skipped": 0, "annotated": [0, 1, 2, 3, 4]},
        "lee": {"accepted": 2, "corrected": 2, "skipped": 1, "annotated": [0, 1, 2, 3]}}
    st.skip(ws, blind, 0, "kim")  # a later skip takes the annotation back; so does an undo
    assert 0 not in annotations(ws, blind, "kim")
    assert st.undo_last(ws, blind, "lee")["index"] == 4 and st.undo_last(ws, blind, "lee")["kind"] == "correct"
    assert sorted(annotations(ws, blind, "lee")) == [0, 1, 2] and spans_for(ws, blind, 3, "lee") == orig[3]
    with pytest.raises(TaggerError, match="not in dataset"):
        spans_for(ws, blind, 9, "kim")


def test_merge_spans_pure():
    merged, clashes = ag.merge_spans(B[1], A[1])  # no conflict: the union
    assert merged == sorted(B[1]) and clashes == []
    merged, clashes = ag.merge_spans(A[3], B[3])
    assert merged == [w(3, 0, 0, "DT")] and clashes == [{"a": [w(3, 1, 1, "PS")], "b": [w(3, 1, 2, "PS")]}]
    assert ag.resolve(merged, clashes, ["b"]) == sorted(B[3])
    assert ag.resolve(merged, clashes, [None]) == merged
    # two conflicts, a chain of overlaps in one; a one-sided span far away joins the union
    a = [Span(0, 3, "PS"), Span(5, 8, "LC"), Span(9, 12, "LC"), Span(20, 22, "DT")]
    b = [Span(0, 2, "PS"), Span(6, 10, "OG"), Span(14, 16, "QT"), Span(20, 22, "DT")]
    merged, clashes = ag.merge_spans(a, b)
    assert merged == [Span(14, 16, "QT"), Span(20, 22, "DT")]
    assert clashes == [{"a": [Span(0, 3, "PS")], "b": [Span(0, 2, "PS")]},
                       {"a": [Span(5, 8, "LC"), Span(9, 12, "LC")], "b": [Span(6, 10, "OG")]}]
    assert ag.resolve(merged, clashes, ["a", "b"]) == [Span(0, 3, "PS"), Span(6, 10, "OG"), Span(14, 16, "QT"),
                                                       Span(20, 22, "DT")]
    # a one-sided span overlapping a span both agree on is a conflict too (choosing "a" leaves it out)
    assert ag.merge_spans([Span(0, 4, "X")], [Span(0, 4, "X"), Span(2, 6, "Y")]) == \
        ([Span(0, 4, "X")], [{"a": [], "b": [Span(2, 6, "Y")]}])
    with pytest.raises(TaggerError, match="2 conflicting"):
        ag.resolve(merged, clashes, ["a"])
    with pytest.raises(TaggerError, match="not a side"):
        ag.resolve(merged, clashes, ["a", "c"])


def _read_back(tmp_path, out) -> list:
    (tmp_path / "back.tsv").write_bytes(out["data"])
    return [sorted(s.spans) for s in load_corpus(tmp_path / "back.tsv", format="sentence-tags").sentences]


def test_adjudicate_pick_merge_edit_undo_and_export(ws, blind, tmp_path):
    orig = [sorted(s.spans) for s in ws.corpus(blind).sentences]
    assert ag.pick(ws, blind, 2, "kim", "park") == 2          # S2: kim's LC over lee's OG
    assert ag.merge(ws, blind, 3, "kim", "lee", "park", ["b"]) == 2  # S3: DT0 + lee's PS1-2
    assert ag.merge(ws, blind, 1, "kim", "lee", "park") == 2   # S1: no conflict, the union
    with pytest.raises(TaggerError, match="1 conflicting"):
        ag.merge(ws, blind, 3, "kim", "lee", "park")
    with pytest.raises(TaggerError, match="lee has not reviewed sentence 4"):
        ag.pick(ws, blind, 4, "lee", "park")
    done = ag.adjudications(ws, blind)
    assert sorted(done) == [1, 2, 3] and done[2]["spans"] == A[2] and done[2]["adjudicator"] == "park"
    assert (done[2]["how"], done[2]["reviewers"], done[3]["how"]) == ("pick", ["kim"], "merge")
    rep = ag.agreement(ws, blind, "kim", "lee")  # the passes themselves are unchanged
    assert rep["f1"] == float(F1) and all(d["adjudicated"] for d in rep["disagreements"])
    st.correct(ws, blind, 2, [w(2, 1, 1, "LC")], "lee")  # a later correction does not beat it
    out = export_corrected(ws, blind)
    assert out["problems"] == [] and out["adjudicated"] == 3
    assert _read_back(tmp_path, out) == [orig[0], sorted(B[1]), A[2], sorted(B[3]), orig[4]]
    assert ag.edit(ws, blind, 0, [w(0, 0, 1, "PS")], "park") == 1  # any spans
    assert _read_back(tmp_path, export_corrected(ws, blind))[0] == [w(0, 0, 1, "PS")]
    # undo: the adjudicator's last action, then one sentence's adjudication
    assert st.undo_last(ws, blind, "park") == {"index": 0, "kind": "adjudicate", "reviewer": "park"}
    assert ag.undo_adjudication(ws, blind, 2) and not ag.undo_adjudication(ws, blind, 0)
    assert sorted(ag.adjudications(ws, blind)) == [1, 3]
    back = _read_back(tmp_path, export_corrected(ws, blind))
    assert back[0] == orig[0] and back[2] == [w(2, 1, 1, "LC")]  # S2: the latest correction again
    assert ws.corrections(blind, "lee")[2] == [w(2, 1, 1, "LC")] and 2 not in ws.corrections(blind, "park")


def test_export_only_counts_adjudicated_as_corrected(ws, blind, tmp_path):
    ag.pick(ws, blind, 4, "kim", "park")  # S4: lee skipped it; the latest status by anyone is a skip
    out = export_corrected(ws, blind, only=("accepted", "corrected"))
    assert out["sentences"] == 5 and out["adjudicated"] == 1
    with pytest.raises(TaggerError, match="nothing to export"):
        export_corrected(ws, blind, only=("skipped",))
    assert export_corrected(ws, blind, only="accepted")["sentences"] == 2  # S0, S1: lee accepted last


def test_export_without_adjudication_is_unchanged(ws, did):
    assert export_corrected(ws, did)["data"] == ws.raw_bytes(did)
    st.correct(ws, did, 1, A[1], "kim")
    out = export_corrected(ws, did)
    assert out["adjudicated"] == 0 and out["corrected"] == 1 and out["data"] != ws.raw_bytes(did)


def test_legacy_workspace_gains_the_column_and_adjudicates(tmp_path):
    exp = json.loads((LEGACY / "workspace_expected.json").read_text(encoding="utf-8"))
    shutil.copytree(LEGACY / "workspace", tmp_path / "ws")
    ws = Workspace(tmp_path / "ws")
    ws._init()  # idempotent
    conn = sqlite3.connect(tmp_path / "ws" / "workspace.sqlite")
    cols = [r[1] for r in conn.execute("PRAGMA table_info(corrections)")]
    conn.close()
    assert cols.count("adjudication") == 1
    dev = exp["dev_id"]
    got = {str(k): [[s.start, s.end, s.label] for s in v] for k, v in ws.corrections(dev).items()}
    assert got == exp["corrections"] and ws.adjudicated(dev) == {} and reviewers(ws, dev) == {}
    assert ws.corrections(dev, "kim") == {}  # the old rows are no one's pass
    assert ag.agreement(ws, dev, "kim", "lee")["sentences"] == 0
    before = export_corrected(ws, dev)["data"]
    ag.edit(ws, dev, 0, [Span(0, 2, "PS")], "park")
    assert ws.corpus(dev, corrected=True).sentences[0].spans == [Span(0, 2, "PS")]
    assert st.undo_last(ws, dev, "park")["kind"] == "adjudicate"
    assert export_corrected(ws, dev)["data"] == before
