"""The app with a per-unit label (POS) corpus: the Data page reads it, a run
trains on it, and the Evaluate page leads with token accuracy."""
import pytest
from streamlit.testing.v1 import AppTest

from tagger.runs import control as runs
from tagger.runs.worker import execute
from tagger.workspace.store import Workspace

from test_app_pages import APP, TINY as NER_TINY

TINY = dict(NER_TINY, tokenizer="eojeol")  # the POS sample's units are words


@pytest.fixture(scope="module")
def pos_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("pos")
    ws = Workspace(root)
    d, _ = ws.add_sample("pos_conll.tsv")
    rid = runs.create_run(ws, dict(TINY, train_id=d["id"], dev_id=d["id"]), name="pos")
    assert execute(ws, rid) == 0
    return root


def test_evaluate_page_leads_with_token_accuracy_for_pos(pos_dir, monkeypatch):
    monkeypatch.setenv("TAGGER_WORKSPACE", str(pos_dir))
    ws = Workspace(pos_dir)
    assert ws.corpus(ws.datasets()[0]["id"]).scheme == "plain"
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("app_pages/3_evaluate.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    assert 0.0 <= float(metrics["token accuracy"]) <= 1.0
    assert int(metrics["units scored"].replace(",", "")) > 100
    assert "NNG" in at.table[0].value.index  # per-tag rows
