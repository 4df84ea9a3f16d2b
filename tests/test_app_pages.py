"""Every page through streamlit's AppTest: an empty workspace, a seeded one, the
main widget actions, share links, read-only mode; never an exception."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tagger.runs import control as runs
from tagger.workspace import models as ws_models
from tagger.runs.worker import execute
from tagger.workspace.store import Workspace

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGES = ["app_pages/1_data.py", "app_pages/2_train.py", "app_pages/3_evaluate.py", "app_pages/4_review.py", "app_pages/5_demo.py",
         "app_pages/6_language-models.py"]
TINY = {"tokenizer": "char", "model": {"hidden_size": 8, "num_layers": 1, "embedding_dim": 8},
        "train": {"epochs": 2, "batch_size": 8, "patience": 2}, "threads": 1}


@pytest.fixture(scope="module")
def seeded_dir(tmp_path_factory):
    """Samples, a text file, one finished run with its model (trained in-process)."""
    root = tmp_path_factory.mktemp("seeded")
    ws = Workspace(root)
    tr, _ = ws.add_sample("ner_klue.tsv")
    dv, _ = ws.add_sample("ner_klue_dev.tsv")
    ws.add_sample("lm.txt")
    rid = runs.create_run(ws, dict(TINY, train_id=tr["id"], dev_id=dv["id"]), name="seeded")
    assert execute(ws, rid) == 0
    return root


@pytest.fixture
def seeded(seeded_dir, monkeypatch):
    monkeypatch.setenv("TAGGER_WORKSPACE", str(seeded_dir))
    return Workspace(seeded_dir)


def _app(page=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "success", "warning", "error", "subheader", "title")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", [None] + PAGES)
def test_pages_render_on_an_empty_workspace(page):
    at = _app(page)
    assert at.title, "every page has a title"
    if page in ("app_pages/3_evaluate.py", "app_pages/5_demo.py", "app_pages/6_language-models.py"):
        assert at.info, "a page with nothing to show says what to do"


@pytest.mark.parametrize("page,expect", [
    (None, "datasets"), ("app_pages/1_data.py", "Validation report"), ("app_pages/2_train.py", "Runs"),
    ("app_pages/3_evaluate.py", "Entity-type confusion"), ("app_pages/4_review.py", "Correct"), ("app_pages/5_demo.py", "Share link")])
def test_pages_render_with_seeded_data(seeded, page, expect):
    at = _app(page)
    assert expect in _texts(at) or any(m.label == expect for m in at.metric)


def test_evaluate_report_table_and_comparison(seeded):
    at = _app("app_pages/3_evaluate.py")
    table = at.table[0].value
    assert "micro avg" in table.index and "char-level macro F1" in table.index
    assert 0.0 <= float(table.loc["micro avg", "F1"]) <= 1.0
    assert at.multiselect[0].value, "the model is compared side by side"


def test_data_add_sample_and_tokenize(seeded):
    at = _app("app_pages/1_data.py")
    sample = next(s for s in at.selectbox if s.label == "…or a bundled sample")
    sample.set_value("ner_conll.tsv").run()
    next(b for b in at.button if b.label == "Add sample").click().run()
    assert not at.exception
    assert any(d["name"] == "ner_conll.tsv" for d in seeded.datasets())
    next(b for b in at.button if b.label == "Tokenize").click().run()
    assert not at.exception
    assert any(m.label == "entity boundary coverage" for m in at.metric)
    assert seeded.tokenizations(next(d["id"] for d in seeded.datasets() if d["name"] == "ner_conll.tsv"))


def test_review_correct_undo_and_export(seeded):
    at = _app("app_pages/4_review.py")
    did = at.session_state["dataset"]
    index = at.session_state[f"review_sel::{did}"]       # one sentence picker per dataset
    before = seeded.correction_versions(did, index)
    next(b for b in at.button if b.label == "Remove entity").click().run()
    assert not at.exception and seeded.correction_versions(did, index) == before + 1
    next(b for b in at.button if b.label == "Undo last correction").click().run()
    assert seeded.correction_versions(did, index) == before
    next(b for b in at.button if b.label == "Prepare the corrected corpus").click().run()
    assert "Round trip checked" in _texts(at)
    assert at.toggle[0].label == "Only disagreements"
    at.toggle[0].set_value(True).run()
    at.toggle[1].set_value(True).run()
    assert not at.exception


def test_review_reviewer_unreviewed_first_and_export_by_status(seeded):
    """The sidebar's reviewer names the saves; "Unreviewed first" reorders the
    sentences; the export writes only the accepted and corrected ones and
    shows the counts per status and per reviewer."""
    from tagger.workspace import status
    did = next(d["id"] for d in seeded.datasets() if d["name"] == "ner_klue.tsv")
    at = _app()
    at.session_state["dataset"] = did
    at.switch_page("app_pages/4_review.py")
    at.run()
    at.sidebar.text_input(key="_reviewer").set_value("kim").run()
    assert at.session_state["reviewer"] == "kim" and at.session_state["dataset"] == did
    status.accept(seeded, did, 0, "kim")
    next(t for t in at.toggle if t.label == "Unreviewed first").set_value(True).run()
    assert not at.exception
    box = next(s for s in at.selectbox if s.key == f"review_sel::{did}")
    assert box.options[0].startswith("#2 ·") and box.options[-1].startswith("#1 ·")
    assert any("1 of 28 reviewed: 1 accepted" in p.proto.text for p in at.get("progress"))
    box.set_value(1).run()
    next(b for b in at.button if b.label == "Remove entity").click().run()
    assert not at.exception
    assert status.statuses(seeded, did)[1] == {**status.statuses(seeded, did)[1], "status": "corrected",
                                                "reviewer": "kim"}
    at.radio(key="export_only").set_value("only accepted and corrected").run()
    next(b for b in at.button if b.label == "Prepare the corrected corpus").click().run()
    texts = _texts(at)
    assert "Round trip checked" in texts
    assert "1 of 2 sentences corrected · only accepted and corrected" in texts
    assert "accepted 1, corrected 1" in texts
    assert at.dataframe[-1].value.to_dict("records") == [{"reviewer": "kim", "accepted": 1, "corrected": 1,
                                                          "skipped": 0}]
    while status.undo_last(seeded, did, "kim"):  # the module's workspace is shared
        pass


def test_train_form_starts_a_background_run(seeded):
    at = _app("app_pages/2_train.py")
    for label, value in (("Hidden size (per direction)", 8), ("Layers", 1), ("Token embedding", 8), ("Epochs", 1)):
        next(n for n in at.number_input if n.label == label).set_value(value)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception
    rid = at.session_state["run"]
    assert runs.run(seeded, rid)["status"] in ("queued", "running", "done")
    r = runs.wait(seeded, rid, timeout=120)
    assert r["status"] == "done", runs.log_lines(seeded, rid)
    at.run()
    assert "done" in _texts(at)
    assert r["config"]["model"]["hidden_size"] == 8 and r["config"]["train"]["epochs"] == 1


def test_demo_share_link_and_bad_links(seeded):
    mid = ws_models.models(seeded)[0]["id"]
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/5_demo.py")
    at.query_params["model"] = mid
    at.query_params["text"] = "김민준은 서울에 갔다. 둘째 문장이다."
    at.run()
    assert not at.exception and len(at.html) == 2
    assert at.text_area[0].value.startswith("김민준은")
    assert f"?model={mid}&text=" in at.code[-1].value
    for bad, says in (("../../etc/passwd", "never by a path"), ("m-0000000000", "not in this workspace"),
                      ("/abs/models/x", "never by a path")):
        at = AppTest.from_file(APP, default_timeout=60)
        at.switch_page("app_pages/5_demo.py")
        at.query_params["model"] = bad
        at.run()
        assert not at.exception
        assert any(says in e.value for e in at.error), [e.value for e in at.error]


def test_readonly_serves_only_landing_and_demo(seeded, monkeypatch):
    monkeypatch.setenv("TAGGER_READONLY", "1")
    at = _app()
    assert "Read-only" in _texts(at) and not at.button
    at = _app("app_pages/5_demo.py")
    assert at.html
    for page in (p for p in PAGES if p != "app_pages/5_demo.py"):
        at = AppTest.from_file(str(ROOT / page), default_timeout=60)
        at.run()
        assert not at.exception and "read-only" in _texts(at) and not at.button
