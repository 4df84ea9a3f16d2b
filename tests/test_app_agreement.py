"""The Review page with two reviewers (kim and lee) through AppTest: blind
mode hides lee's correction from kim, the Agreement section shows the figures
of ``agreement.agreement`` and adjudication records and undoes a decision."""
import pytest
from streamlit.testing.v1 import AppTest

from tagger.core import Span
from tagger.core.units import units
from tagger.workspace import agreement, status
from tagger.workspace.store import Workspace
from tests.test_app_pages import APP

TEXTS = ["김철수 씨는 서울에 갔다", "삼성전자 주가가 어제 올랐다",
         "부산 해변에 관광객이 많다", "오늘 이순신 장군을 만났다", "그냥 무난한 영화"]
TAGS = ["B-PS O B-LC O", "B-OG O B-DT O", "B-LC O O O", "B-DT B-PS O O", "O O O"]
DATA = "".join(f"{t}\t{g}\n" for t, g in zip(TEXTS, TAGS)).encode("utf-8")
PAGE = "app_pages/4_review.py"


def w(i: int, first: int, last: int, label: str) -> Span:
    us = units(TEXTS[i], "word")
    return Span(us[first][0], us[last][1], label)


@pytest.fixture
def two(tmp_path, monkeypatch):
    """kim accepts all and corrects sentence 2; lee accepts 1-2, corrects 3 and 4, skips 5."""
    ws = Workspace(tmp_path / "ws")
    did = ws.add_dataset("two.tsv", DATA, format="sentence-tags")[0]["id"]
    for i in (0, 2, 3, 4):
        status.accept(ws, did, i, "kim")
    status.correct(ws, did, 1, [w(1, 0, 0, "OG")], "kim")
    for i in (0, 1):
        status.accept(ws, did, i, "lee")
    status.correct(ws, did, 2, [w(2, 0, 0, "OG")], "lee")
    status.correct(ws, did, 3, [w(3, 0, 0, "DT"), w(3, 1, 2, "PS")], "lee")
    status.skip(ws, did, 4, "lee")
    monkeypatch.setenv("TAGGER_WORKSPACE", str(ws.root))
    monkeypatch.setenv("TAGGER_USER", "kim")
    return ws, did


def _review() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _button(at, key: str):
    return next(b for b in at.button if b.key == key)


def test_agreement_figures_are_those_of_the_workspace(two):
    ws, did = two
    rep = agreement.agreement(ws, did, "kim", "lee")
    at = _review()
    assert at.selectbox(key=f"agree_a::{did}").value == "kim"
    assert at.selectbox(key=f"agree_b::{did}").value == "lee"
    assert _metric(at, "Span F1") == f"{rep['f1']:.3f}" == "0.615"  # 8/13
    assert _metric(at, "Cohen's kappa") == f"{rep['kappa']:.3f}" == "0.707"  # 29/41
    assert _metric(at, "Units compared") == str(rep["units"]) == "16"
    assert _metric(at, "Sentences compared") == "4"
    assert _metric(at, "Only A reviewed") == "1" and _metric(at, "Only B reviewed") == "0"
    assert _metric(at, "Disagreeing sentences") == str(rep["disagreeing"]) == "3"
    frames = [d.value for d in at.dataframe if "type" in d.value.columns]
    assert frames and sorted(frames[0]["type"]) == sorted(rep["per_type"])
    assert list(frames[0]["A"]) == [rep["per_type"][t]["a"] for t in frames[0]["type"]]


def test_take_a_records_an_adjudication_and_undo_removes_it(two):
    ws, did = two
    at = _review()
    first = agreement.agreement(ws, did, "kim", "lee")["disagreements"][0]["index"]
    assert agreement.adjudications(ws, did) == {}
    _button(at, "adj_take_a").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    done = agreement.adjudications(ws, did)
    assert list(done) == [first] and done[first]["adjudicator"] == "kim" and done[first]["how"] == "pick"
    assert done[first]["spans"] == [w(1, 0, 0, "OG")]
    assert any("took kim's spans" in s.value for s in at.success)
    _button(at, "adj_undo").click()
    at.run()
    assert not at.exception
    assert agreement.adjudications(ws, did) == {}


def test_merge_with_a_choice_per_conflict(two):
    ws, did = two
    at = _review()
    at.selectbox(key=f"adj_sel::{did}::kim::lee").set_value(3)  # sentence 4: PS w1 (A) vs PS w1-2 (B)
    at.run()
    radio = next(r for r in at.radio if r.key and r.key.startswith(f"adj_{did}_3_c"))
    radio.set_value("b")
    at.run()
    _button(at, "adj_merge").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert agreement.adjudications(ws, did)[3]["spans"] == [w(3, 0, 0, "DT"), w(3, 1, 2, "PS")]


def test_blind_mode_hides_lees_correction_from_kim(two):
    ws, did = two
    at = _review()
    at.selectbox(key=f"review_sel::{did}").set_value(2)
    at.run()
    gold = [h.body for h in at.get("html") if "gold" in h.body]
    assert gold and 'data-label="OG"' in gold[0], "not blind: lee's correction (OG) is shown"
    at.toggle(key="_review_blind").set_value(True)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    gold = [h.body for h in at.get("html") if "gold" in h.body]
    assert 'data-label="LC"' in gold[0] and 'data-label="OG"' not in gold[0], "blind: kim sees the original LC"
    bars = [p.proto.text for p in at.get("progress")]
    assert any("5 of 5 reviewed: 4 accepted, 1 corrected" in t for t in bars), bars
    assert any("blind: original labels" in c.value for c in at.caption)


def test_edit_records_the_chosen_spans(two):
    ws, did = two
    at = _review()
    at.selectbox(key=f"adj_sel::{did}::kim::lee").set_value(2)  # sentence 3: LC (kim) vs OG (lee)
    at.run()
    at.multiselect(key=f"adj_keep_{did}_2").set_value([])
    at.selectbox(key=f"adj_label_{did}_2").set_value("PS")
    at.run()
    _button(at, "adj_edit").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    done = agreement.adjudications(ws, did)[2]
    assert done["how"] == "edit" and done["spans"] == [w(2, 0, 0, "PS")]
    assert agreement.agreement(ws, did, "kim", "lee")["disagreements"][1]["adjudicated"]
