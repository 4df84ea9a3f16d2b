"""Concurrency: two app sessions train at once while a third uses the Demo
page on one shared workspace; every run finishes, each session keeps its own
run, the Demo answers exactly as it does for a single user, and each model
equals the one the same settings give when trained alone. Kkma used from
several threads answers exactly as serial use."""
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tagger.runs import control as runs
from tagger.workspace import models as ws_models
from tagger.runs.worker import execute
from tagger.tokenizers import get_tokenizer
from tagger.workspace.store import Workspace
from test_kkma import _MISSING, SENTENCES

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
DEMO_TEXT = "김민준 기자는 3일 서울 종로구에서 열린 기자회견에 참석했다.\n삼성전자는 신제품을 발표했다."
SETTINGS = [{"Hidden size (per direction)": 8, "Token embedding": 8, "Layers": 1, "Epochs": 3, "Seed": 1,
             "Batch size": 8, "CPU threads": 1},
            {"Hidden size (per direction)": 16, "Token embedding": 8, "Layers": 1, "Epochs": 3, "Seed": 2,
             "Batch size": 4, "CPU threads": 1}]


def _page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(page)
    return at


def _demo(mid: str) -> list[str]:
    """What one Demo session shows for DEMO_TEXT: the highlighted HTML and the entity tables."""
    at = _page("app_pages/5_demo.py")
    at.query_params["model"] = mid
    at.query_params["text"] = DEMO_TEXT
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return [h.proto.body for h in at.html] + [df.value.to_csv() for df in at.dataframe]


def _start_training(settings: dict) -> AppTest:
    at = _page("app_pages/2_train.py")
    at.run()
    next(s for s in at.selectbox if s.label == "Tokenizer").set_value("char")
    for label, value in settings.items():
        next(n for n in at.number_input if n.label == label).set_value(value)
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow
def test_two_sessions_train_while_a_third_uses_the_demo_and_results_match_single_user():
    ws = Workspace()
    tr, _ = ws.add_sample("ner_klue.tsv")
    ws.add_sample("ner_klue_dev.tsv")
    base = runs.create_run(ws, {"train_id": tr["id"], "tokenizer": "char", "threads": 1,
                                "model": {"hidden_size": 8, "num_layers": 1, "embedding_dim": 8},
                                "train": {"epochs": 1, "batch_size": 8}})
    assert execute(ws, base) == 0
    demo_mid = runs.run(ws, base)["model_id"]
    alone = _demo(demo_mid)                               # a single user's view

    sessions = [_start_training(s) for s in SETTINGS]     # two browser sessions, two runs
    rids = [at.session_state["run"] for at in sessions]
    assert len(set(rids)) == 2
    demo_views = 0
    while any(runs.run(ws, r)["status"] in runs.ACTIVE for r in rids):
        assert _demo(demo_mid) == alone                   # the third session, meanwhile
        demo_views += 1
    assert demo_views >= 1
    finished = [runs.wait(ws, r, timeout=10) for r in rids]
    assert [r["status"] for r in finished] == ["done", "done"], [runs.log_lines(ws, r) for r in rids]
    for at, rid, settings in zip(sessions, rids, SETTINGS):
        at.run()
        assert not at.exception and at.session_state["run"] == rid      # each sees its own run
        cfg = runs.run(ws, rid)["config"]
        assert cfg["model"]["hidden_size"] == settings["Hidden size (per direction)"]
        assert cfg["train"]["seed"] == settings["Seed"]
        assert rid in at.markdown[0].value or any(rid in m.value for m in at.markdown)

    # the same settings trained alone, one after the other, give the very same models
    dev_texts = [s.text for s in ws.corpus(tr["id"]).sentences[:10]]
    for r in finished:
        solo = runs.create_run(ws, r["config"], name="alone")
        assert execute(ws, solo) == 0
        solo_mid = runs.run(ws, solo)["model_id"]
        assert [h["loss"] for h in runs.history(ws, solo)] == [h["loss"] for h in runs.history(ws, r["id"])]
        assert ws_models.load(ws, solo_mid).predict(dev_texts) == \
            ws_models.load(ws, r["model_id"]).predict(dev_texts)
    assert _demo(demo_mid) == alone


@pytest.mark.slow
@pytest.mark.kkma
@pytest.mark.skipif(bool(_MISSING), reason=f"Kkma needs {', '.join(_MISSING)}")
def test_kkma_from_several_threads_equals_serial_use():
    tok = get_tokenizer("kkma")
    texts = [f"{a} {b}" for a in SENTENCES for b in SENTENCES[:2]]
    serial = tok.tokenize_many(texts, cache=False).tokens
    parts = [texts[i::4] for i in range(4)]
    got: dict = {}
    errors: list = []

    def work(i):
        try:
            got[i] = tok.tokenize_many(parts[i], cache=False, workers=2).tokens
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and len(got) == 4
    for i in range(4):
        assert got[i] == serial[i::4]
