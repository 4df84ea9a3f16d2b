"""The Review page's annotation loop through AppTest: after a round (run
in-process through the run machinery), Review opens on the most uncertain
unreviewed sentence with the round's model as *Predictions of*, the queue and
the history chart show the published figures, a newer round is taken once,
and *Retrain on what is reviewed* starts a round with the chosen set and
measure (or shows why not)."""
import json

import pytest
from streamlit.testing.v1 import AppTest

from loop_support import TINY_LOOP, TINY_MODEL, add_tiny
from tagger.core import TaggerError
from tagger.runs import control as runs
from tagger.runs.worker import execute
from tagger.workspace import loop, models as ws_models, status
from tagger.workspace.store import Workspace
from tests.test_app_pages import APP

PAGE = "app_pages/4_review.py"
WHO = "kim"


@pytest.fixture(scope="module")
def looped_dir(tmp_path_factory):
    """A 20-sentence dataset, 8 accepted by kim, one round run in this process, a
    newer model than the round's; a labelled extra set."""
    root = tmp_path_factory.mktemp("looped")
    ws = Workspace(root)
    did = add_tiny(ws)
    add_tiny(ws, n=4, name="extra.tsv", start=100)
    for i in range(8):
        status.accept(ws, did, i, WHO)
    rid = runs.create_run(ws, {"task": "loop", "train_id": did, "reviewer": WHO, "loop": TINY_LOOP,
                               "model": TINY_MODEL, "threads": 1})
    assert execute(ws, rid) == 0, runs.log_lines(ws, rid)
    mid = runs.run(ws, rid)["model_id"]
    ws_models.register(ws, ws_models.load(ws, mid), name="a newer model")  # what the picker would show first
    return root, did


@pytest.fixture
def looped(looped_dir, monkeypatch):
    root, did = looped_dir
    monkeypatch.setenv("TAGGER_WORKSPACE", str(root))
    monkeypatch.setenv("TAGGER_USER", WHO)
    return Workspace(root), did


def _review(did: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page(PAGE)
    at.run()
    _box(at, "Dataset").set_value(did).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _box(at, prefix: str):
    return next(s for s in at.selectbox if s.label.startswith(prefix))


def test_review_opens_on_the_most_uncertain_sentence_with_the_rounds_model(looped):
    ws, did = looped
    order = loop.state(ws, did)["order"]
    at = _review(did)
    assert _box(at, "Predictions of").value == order["model_id"]
    assert next(t for t in at.toggle if t.label.startswith("Most uncertain first")).value is True
    sentence = _box(at, "Sentence (")
    top = [i for i, _ in order["scores"]]
    assert sentence.value == top[0] and max(u for _, u in order["scores"]) == order["scores"][0][1]
    assert sentence.options[:len(top)] == [f"#{i + 1} · {ws.corpus(did).sentences[i].text}" for i in top]
    assert set(top) == set(range(8, 20))
    queue = next(d.value for d in at.dataframe if "uncertainty" in d.value.columns)
    assert list(queue["sentence"]) == [i + 1 for i in top[:10]]
    assert list(queue["uncertainty"]) == pytest.approx([u for _, u in order["scores"][:10]])


def test_the_history_shows_each_rounds_heldout_f1(looped):
    ws, did = looped
    row = loop.state(ws, did)["rounds"][0]
    at = _review(did)
    hist = next(d.value for d in at.dataframe if "held-out F1" in d.value.columns)
    assert list(hist["round"]) == [1] and list(hist["reviewed sentences"]) == [row["reviewed"]] == [6]
    assert list(hist["held-out F1"]) == pytest.approx([row["heldout_f1"]])
    assert list(hist["held-out size"]) == [2] and list(hist["model"]) == [row["model_id"]]
    charts = [c for c in at.get("vega_lite_chart") if "held-out F1" in c.proto.spec]
    assert len(charts) == 1, [c.proto.spec[:200] for c in at.get("vega_lite_chart")]
    spec = json.loads(charts[0].proto.spec)
    assert spec["encoding"]["x"]["field"] == "reviewed sentences" and spec["encoding"]["y"]["field"] == "held-out F1"


def test_a_newer_round_is_taken_once(looped, monkeypatch):
    ws, did = looped
    at = _review(did)
    state = loop.state(ws, did)
    top = [i for i, _ in state["order"]["scores"]]
    _box(at, "Sentence (").set_value(top[3]).run()
    at.run()
    assert _box(at, "Sentence (").value == top[3]  # the same round: the reviewer's place is kept
    newer = list(reversed(state["order"]["scores"]))
    path = ws.root / "datasets" / did / loop.LOOP_FILE
    before = path.read_bytes()
    try:
        loop.publish(ws, did, {**state["rounds"][0], "finished": None}, newer)
        at.run()
        assert not at.exception
        assert _box(at, "Sentence (").value == newer[0][0]
        assert next(t for t in at.toggle if t.label.startswith("Most uncertain first")).label.startswith(
            "Most uncertain first (round 2")
        _box(at, "Sentence (").set_value(newer[2][0]).run()
        at.run()
        assert _box(at, "Sentence (").value == newer[2][0]
    finally:
        path.write_bytes(before)  # the module's workspace as it was


def test_retrain_starts_a_round_with_the_chosen_set_and_measure(looped, monkeypatch):
    import ui.loop_view as view
    ws, did = looped
    extra = next(d["id"] for d in ws.datasets() if d["name"] == "extra.tsv")
    calls = []
    monkeypatch.setattr(view, "start_round", lambda *a: calls.append(a) or "r-0000000000")
    at = _review(did)
    _box(at, "Also train on").set_value(extra).run()
    _box(at, "Uncertainty").set_value("entity").run()
    next(b for b in at.button if b.label == "Retrain on what is reviewed").click().run()
    assert not at.exception
    assert [c[1:] for c in calls] == [(did, WHO, False, extra, {"measure": "entity"})]

    def refuse(*a):
        raise TaggerError("a round of this dataset is already running (run r-1)")
    monkeypatch.setattr(view, "start_round", refuse)
    next(b for b in at.button if b.label == "Retrain on what is reviewed").click().run()
    assert any("already running" in e.value for e in at.error)
