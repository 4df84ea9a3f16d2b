"""Faults: a training process killed with SIGKILL mid-epoch, processes killed
while saving a model or writing a corpus, the Streamlit server restarted
while a run goes on, a full disk. Nothing corrupt is ever visible under a
final name, the catalogue stays consistent, the app tells the truth.

(The engine-level twin: tests/test_cli.py::test_same_seed_reproduces_and_resume_equals_uninterrupted.)"""
import errno
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tagger import TaggerError
from tagger.runs import control as runs
from tagger.workspace import models as ws_models
from tagger.corpus.load import load_corpus
from tagger.models.tagger import TaggerModel
from tagger.workspace.store import Workspace

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SLOW_TINY = {"tokenizer": "char", "threads": 1, "model": {"hidden_size": 16, "num_layers": 1, "embedding_dim": 16},
             "train": {"epochs": 6, "batch_size": 1, "patience": 6, "seed": 7, "device": "cpu"}}


def integrity_ok(ws: Workspace) -> None:
    conn = sqlite3.connect(str(ws.db_path))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def wait_for(ws, rid, cond, what, timeout=240):
    end = time.time() + timeout
    while time.time() < end:
        r = runs.run(ws, rid)
        if cond(r):
            return r
        time.sleep(0.05)
    raise AssertionError(f"run {rid} never {what} ({r['status']}): {runs.log_lines(ws, rid)}")


def restarted_app_page(page: str) -> AppTest:
    """A fresh server process as far as the runs go: it holds no handle on the
    workers it did not start, so liveness comes from the pid alone."""
    runs._CHILDREN.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_text(at) -> str:
    kinds = ("markdown", "caption", "warning", "error", "success", "info")
    return "\n".join(str(e.value) for k in kinds for e in getattr(at, k))


def reaped(pid_handles, pid):
    proc = pid_handles.get(pid)
    if proc is not None:
        proc.wait(timeout=10)


@pytest.mark.slow
def test_killed_training_is_shown_interrupted_and_resumes_to_the_uninterrupted_result():
    ws = Workspace()
    tr, _ = ws.add_sample("ner_klue.tsv")
    dv, _ = ws.add_sample("ner_klue_dev.tsv")
    cfg = dict(SLOW_TINY, train_id=tr["id"], dev_id=dv["id"])
    straight = runs.start_run(ws, cfg, name="uninterrupted")
    victim = runs.start_run(ws, cfg, name="killed")
    handles = dict(runs._CHILDREN)
    # two epochs done (a checkpoint on disk), the third under way: hold it there (still alive)
    r = wait_for(ws, victim, lambda r: len(runs.history(ws, victim)) >= 2, "finished two epochs")
    os.kill(r["pid"], signal.SIGSTOP)
    assert len(runs.history(ws, victim)) < SLOW_TINY["train"]["epochs"]
    at = restarted_app_page("app_pages/2_train.py")   # the server restarts while the run goes on
    at.session_state["run"] = victim
    at.run()
    assert "running" in page_text(at) and "interrupted" not in page_text(at)
    os.kill(r["pid"], signal.SIGKILL)
    reaped(handles, r["pid"])
    at = restarted_app_page("app_pages/2_train.py")
    at.session_state["run"] = victim
    at.run()
    assert "interrupted" in page_text(at) and "resume continues" in page_text(at)
    integrity_ok(ws)
    assert runs.run(ws, victim)["model_id"] is None
    assert [m["run_id"] for m in ws_models.models(ws)] in ([], [straight])  # nothing half-made registered
    next(b for b in at.button if b.label == "Resume run").click().run()   # resumed from the app
    assert not at.exception
    done_v, done_s = runs.wait(ws, victim, timeout=300), runs.wait(ws, straight, timeout=300)
    assert done_v["status"] == done_s["status"] == "done", runs.log_lines(ws, victim)
    assert any("resuming after epoch" in line for line in runs.log_lines(ws, victim))
    integrity_ok(ws)
    keys = ("epoch", "loss", "dev_f1")
    assert [{k: h[k] for k in keys} for h in runs.history(ws, victim)] == \
        [{k: h[k] for k in keys} for h in runs.history(ws, straight)]
    texts = [s.text for s in ws.corpus(dv["id"]).sentences]
    a, b = ws_models.load(ws, done_v["model_id"]), ws_models.load(ws, done_s["model_id"])
    assert a.predict(texts) == b.predict(texts)
    assert sorted(m["run_id"] for m in ws_models.models(ws)) == sorted([victim, straight])


KILLS = int(os.environ.get("FAULT_KILLS", "5"))
_SAVER = textwrap.dedent("""
    import sys, torch
    from tagger.workspace import models as ws_models
    from tagger.corpus.load import load_corpus, write_corpus
    from tagger.workspace.store import Workspace
    from tagger.models.tagger import TaggerConfig
    from tagger.training.tagger import TrainConfig, train
    from tagger.core import Sentence, Span
    out = sys.argv[1]
    s = [Sentence("김철수는 서울에 산다", [Span(0, 3, "PS"), Span(5, 7, "LC")])]
    cfg = TaggerConfig(hidden_size=256, embedding_dim=64, num_layers=1)
    models = [train(s, s, model_config=cfg, train_config=TrainConfig(epochs=1, seed=k, device="cpu"))
              for k in (1, 2)]
    corpora = [load_corpus(p) for p in sys.argv[2:4]]
    ws = Workspace()
    print("ready", flush=True)
    i = 0
    while True:
        models[i % 2].save(out + "/model")
        write_corpus(corpora[i % 2], out + "/corpus.tsv")
        ws_models.register(ws, models[i % 2], name=f"save {i}")
        i += 1
""")


@pytest.mark.slow
def test_killed_saves_never_leave_a_corrupt_model_or_corpus_under_its_final_name(tmp_path):
    samples = ROOT / "data" / "samples"
    sources = [samples / "ner_klue.tsv", samples / "ner_sentence_tags.tsv"]
    versions = {p.read_bytes() for p in sources}
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT), TAGGER_WORKSPACE=str(tmp_path / "ws"))
    rng, kills, seen_model, seen_corpus = random.Random(6), 0, 0, 0
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(tmp_path), *map(str, sources)],
                                stdout=subprocess.PIPE, env=env, cwd=str(ROOT))
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        kills += 1
        if (tmp_path / "model" / "model.json").exists():    # present means complete
            TaggerModel.load(tmp_path / "model")
            seen_model += 1
        if (tmp_path / "corpus.tsv").exists():
            assert (tmp_path / "corpus.tsv").read_bytes() in versions
            assert not load_corpus(tmp_path / "corpus.tsv").has_errors()
            seen_corpus += 1
    assert kills == KILLS and seen_model and seen_corpus
    ws = Workspace(tmp_path / "ws")
    integrity_ok(ws)
    registered = ws_models.models(ws)
    assert registered
    for m in registered:                                     # every catalogued model is whole
        ws_models.load(ws, m["id"])


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_full_disk_on_upload_is_a_clear_message_and_loses_nothing(monkeypatch):
    ws = Workspace()
    kept, _ = ws.add_sample("ner_klue.tsv")
    before = ws.raw_bytes(kept["id"])
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/1_data.py")
    at.run()
    monkeypatch.setattr(os, "replace", _enospc)
    at.file_uploader[0].upload("new.tsv", "김철수는 서울에 산다.\tB-PS B-LC O\n".encode(), "text/plain").run()
    monkeypatch.undo()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert any("new.tsv" in e and "No space left on device" in e for e in errors), errors
    assert [d["id"] for d in ws.datasets()] == [kept["id"]] and ws.raw_bytes(kept["id"]) == before
    assert sorted(p.name for p in (ws.root / "datasets").iterdir()) == [kept["id"]]
    integrity_ok(ws)


def test_full_disk_during_training_fails_the_run_clearly_and_keeps_the_last_checkpoint(monkeypatch):
    from tagger.core import files
    from tagger.models import saving as trained
    from tagger.runs.worker import execute
    ws = Workspace()
    tr, _ = ws.add_sample("ner_klue.tsv")
    rid = runs.create_run(ws, dict(SLOW_TINY, train_id=tr["id"], train={"epochs": 3, "batch_size": 8}))
    real, calls = files.atomic_write, []

    def full_after_two(path, write):
        calls.append(Path(path).name)
        if len(calls) > 2:
            _enospc()
        real(path, write)
    monkeypatch.setattr(files, "atomic_write", full_after_two)
    assert execute(ws, rid) != 0
    r = runs.run(ws, rid)
    assert r["status"] == "failed" and "No space left on device" in r["error"] and "\n" not in r["error"]
    assert r["model_id"] is None and not ws_models.models(ws)
    assert not list((ws.root / "models").iterdir())
    monkeypatch.undo()
    ck = trained.load_checkpoint(ws.root / "runs" / rid)          # epoch 2's checkpoint is intact
    assert ck["epoch"] == 2
    integrity_ok(ws)


def test_workspace_that_cannot_be_created_is_a_clear_message(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(TaggerError, match="cannot open the workspace"):
        Workspace(blocker / "ws")
    monkeypatch.setenv("TAGGER_WORKSPACE", str(blocker / "ws"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception and any("cannot open the workspace" in e.value for e in at.error)


def test_a_model_overwritten_by_a_save_that_dies_is_absent_never_mixed(tmp_path, monkeypatch):
    """Found by the kill test: new weights beside the old model.json. Now model.json goes first."""
    from tagger.core import files
    from tagger.training.tagger import TrainConfig, train
    from tagger.core import Sentence, Span
    s = [Sentence("김철수는 서울에 산다", [Span(0, 3, "PS")])]
    a, b = (train(s, s, train_config=TrainConfig(epochs=1, seed=k, device="cpu")) for k in (1, 2))
    a.save(tmp_path / "m")
    monkeypatch.setattr(files, "atomic_write_text", lambda *args: _enospc())
    with pytest.raises(OSError):
        b.save(tmp_path / "m")                   # dies after the weights, before model.json
    assert not (tmp_path / "m" / "model.json").exists()
    with pytest.raises(TaggerError, match="not a model directory"):
        TaggerModel.load(tmp_path / "m")
