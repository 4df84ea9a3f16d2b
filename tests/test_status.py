"""A review status per sentence: versioned per reviewer (latest wins, each
save undoable), progress, ``correct`` = correction + status in one action,
export by status, the migration of an older workspace, reviewer names."""
import json
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from tagger import TaggerError, settings
from tagger.core import Span
from tagger.corpus.load import load_corpus
from tagger.workspace import status as st
from tagger.workspace.annotate import export_corrected
from tagger.workspace.store import Workspace

LEGACY = Path(__file__).resolve().parent / "fixtures" / "legacy"


@pytest.fixture
def ws(tmp_path):
    return Workspace(tmp_path / "ws")


@pytest.fixture
def dev(ws):
    d, _ = ws.add_sample("ner_klue_dev.tsv")
    return d["id"]


def test_set_status_latest_wins_and_undo(ws, dev):
    assert st.statuses(ws, dev) == {}
    assert st.set_status(ws, dev, 0, "accepted", "kim") == 1
    assert st.set_status(ws, dev, 0, "skipped", "kim") == 2
    now = st.statuses(ws, dev)
    assert list(now) == [0] and now[0]["status"] == "skipped" and now[0]["reviewer"] == "kim"
    assert isinstance(now[0]["at"], float)
    assert st.undo_last(ws, dev, "kim") == {"index": 0, "kind": "status", "reviewer": "kim"}
    assert st.statuses(ws, dev)[0]["status"] == "accepted"
    assert st.undo_last(ws, dev, "kim")["index"] == 0 and st.statuses(ws, dev) == {}
    assert st.undo_last(ws, dev, "kim") is None
    st.set_status(ws, dev, 2, "accepted", "kim")
    st.set_status(ws, dev, 2, "unreviewed", "kim")  # an explicit reset is a version too
    assert st.statuses(ws, dev) == {}
    with pytest.raises(TaggerError, match="not a review status"):
        st.set_status(ws, dev, 1, "done", "kim")
    with pytest.raises(TaggerError, match="not in dataset"):
        st.set_status(ws, dev, 8, "accepted", "kim")


def test_rows_are_per_reviewer(ws, dev):
    st.accept(ws, dev, 0, "kim")
    st.skip(ws, dev, 0, "lee")
    st.accept(ws, dev, 1, "lee")
    assert st.statuses(ws, dev)[0] == {**st.statuses(ws, dev)[0], "status": "skipped", "reviewer": "lee"}
    assert st.statuses(ws, dev, "kim")[0]["status"] == "accepted" and 1 not in st.statuses(ws, dev, "kim")
    assert st.reviewer_counts(ws, dev) == {"kim": {"accepted": 1, "corrected": 0, "skipped": 0},
                                           "lee": {"accepted": 1, "corrected": 0, "skipped": 1}}
    # kim's undo takes back kim's action, not lee's newer ones
    assert st.undo_last(ws, dev, "kim") == {"index": 0, "kind": "status", "reviewer": "kim"}
    assert st.statuses(ws, dev)[0]["reviewer"] == "lee" and "kim" not in st.reviewer_counts(ws, dev)
    assert st.undo_sentence(ws, dev, 1)["reviewer"] == "lee" and 1 not in st.statuses(ws, dev)


def test_progress_text(ws, dev):
    p = st.progress(ws, dev)
    assert p["text"] == "0 of 8 reviewed: 0 accepted, 0 corrected, 0 skipped" and p["unreviewed"] == 8
    for i in range(3):
        st.accept(ws, dev, i, "kim")
    st.skip(ws, dev, 3, "lee")
    st.correct(ws, dev, 4, [Span(0, 3, "PS")], "lee")
    p = st.progress(ws, dev)
    assert (p["total"], p["reviewed"], p["accepted"], p["corrected"], p["skipped"], p["unreviewed"]) == \
        (8, 5, 3, 1, 1, 3)
    assert p["text"] == "5 of 8 reviewed: 3 accepted, 1 corrected, 1 skipped"
    assert st.progress(ws, dev, "lee")["text"] == "2 of 8 reviewed: 0 accepted, 1 corrected, 1 skipped"
    assert st.progress_text({"reviewed": 312, "total": 1000, "accepted": 250, "corrected": 55,
                             "skipped": 7}) == "312 of 1,000 reviewed: 250 accepted, 55 corrected, 7 skipped"
    assert ws.summary()["reviewed_sentences"] == 5


def test_unreviewed_first_is_stable(ws, dev):
    st.accept(ws, dev, 0, "kim")
    st.skip(ws, dev, 3, "kim")
    rows = [{"index": i, "text": str(i)} for i in (5, 3, 0, 1, 2)]
    got = st.unreviewed_first(rows, st.statuses(ws, dev))
    assert [r["index"] for r in got] == [5, 1, 2, 3, 0] and rows[0] == {"index": 5, "text": "5"}
    assert st.unreviewed_first([], {}) == []


def test_correct_then_undo_last_undoes_both(ws, dev):
    before = ws.corpus(dev).sentences[2].spans
    st.accept(ws, dev, 2, "kim")
    assert st.correct(ws, dev, 2, [Span(0, 2, "OG")], "kim") == 1
    assert ws.corrections(dev)[2] == [Span(0, 2, "OG")] and st.statuses(ws, dev)[2]["status"] == "corrected"
    assert ws.one("SELECT reviewer FROM corrections WHERE dataset_id=?", (dev,))["reviewer"] == "kim"
    assert st.undo_last(ws, dev, "kim") == {"index": 2, "kind": "correct", "reviewer": "kim"}
    assert ws.corrections(dev) == {} and st.statuses(ws, dev)[2]["status"] == "accepted"
    assert ws.corpus(dev, corrected=True).sentences[2].spans == before
    # a plain save_correction is an action too (the default reviewer when none is given)
    ws.save_correction(dev, 3, [Span(0, 1, "PS")], reviewer="kim")
    assert st.undo_last(ws, dev, "kim")["kind"] == "correction" and ws.corrections(dev) == {}
    # undo_correction drops a correction of a `correct` pair; the status stays, then undoes alone
    st.correct(ws, dev, 5, [Span(0, 1, "PS")], "kim")
    assert ws.undo_correction(dev, 5) and ws.corrections(dev) == {}
    assert st.undo_last(ws, dev, "kim") == {"index": 5, "kind": "status", "reviewer": "kim"}
    assert list(st.statuses(ws, dev)) == [2]
    assert st.undo_last(ws, dev, "kim")["kind"] == "status" and st.statuses(ws, dev) == {}
    assert st.undo_last(ws, dev, "kim") is None


def test_export_only_accepted_and_corrected(ws, dev, tmp_path):
    full = export_corrected(ws, dev)
    assert full["sentences"] == 8 and full["filename"] == "ner_klue_dev.corrected.tsv"
    assert full["counts"] == {"unreviewed": 8, "accepted": 0, "corrected": 0, "skipped": 0}
    assert full["reviewers"] == {} and full["data"] == ws.raw_bytes(dev)
    with pytest.raises(TaggerError, match="nothing to export"):
        export_corrected(ws, dev, only=("accepted", "corrected"))
    sents = ws.corpus(dev).sentences
    st.accept(ws, dev, 1, "kim")
    st.correct(ws, dev, 4, [Span(0, 2, "LC")], "lee")
    st.skip(ws, dev, 6, "kim")
    out = export_corrected(ws, dev, only=("accepted", "corrected"))
    assert out["problems"] == [] and out["sentences"] == 2 and out["corrected"] == 1
    assert out["filename"] == "ner_klue_dev.accepted-corrected.tsv"
    assert out["counts"] == {"unreviewed": 5, "accepted": 1, "corrected": 1, "skipped": 1}
    assert out["reviewers"] == {"kim": {"accepted": 1, "corrected": 0, "skipped": 1},
                                "lee": {"accepted": 0, "corrected": 1, "skipped": 0}}
    (tmp_path / "back.tsv").write_bytes(out["data"])
    back = load_corpus(tmp_path / "back.tsv", format="klue")
    assert [(s.text, s.spans) for s in back.sentences] == [(sents[1].text, sents[1].spans),
                                                          (sents[4].text, [Span(0, 2, "LC")])]
    assert export_corrected(ws, dev)["data"] != ws.raw_bytes(dev)  # everything, with the correction
    with pytest.raises(TaggerError, match="not a review status"):
        export_corrected(ws, dev, only=("approved",))


def test_legacy_workspace_gains_tables_and_column(tmp_path):
    exp = json.loads((LEGACY / "workspace_expected.json").read_text(encoding="utf-8"))
    shutil.copytree(LEGACY / "workspace", tmp_path / "ws")
    old = sqlite3.connect(tmp_path / "ws" / "workspace.sqlite")
    assert "reviewer" not in {r[1] for r in old.execute("PRAGMA table_info(corrections)")}
    old.close()
    ws = Workspace(tmp_path / "ws")
    for _ in range(2):  # idempotent: opening it again changes nothing
        ws._init()
    conn = sqlite3.connect(tmp_path / "ws" / "workspace.sqlite")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    cols = [r[1] for r in conn.execute("PRAGMA table_info(corrections)")]
    reviewers = {r[0] for r in conn.execute("SELECT reviewer FROM corrections")}
    conn.close()
    assert {"statuses", "review_actions"} <= tables and cols.count("reviewer") == 1 and reviewers == {""}
    got = {str(k): [[s.start, s.end, s.label] for s in v] for k, v in ws.corrections(exp["dev_id"]).items()}
    assert got == exp["corrections"]
    assert st.progress(ws, exp["dev_id"])["reviewed"] == 0
    assert st.undo_last(ws, exp["dev_id"], "") is None  # old corrections have no action: not undone here
    assert ws.save_correction(exp["dev_id"], 0, [], reviewer="kim") == exp["versions_0"] + 1
    assert st.undo_last(ws, exp["dev_id"], "kim")["kind"] == "correction"
    assert ws.correction_versions(exp["dev_id"], 0) == exp["versions_0"]


def test_default_reviewer(ws, dev, monkeypatch):
    monkeypatch.setenv("TAGGER_USER", "  박지민 ")
    assert settings.default_reviewer() == "박지민"
    st.accept(ws, dev, 0)
    assert st.statuses(ws, dev)[0]["reviewer"] == "박지민"
    assert st.undo_last(ws, dev) is not None  # the default reviewer's own action
    monkeypatch.delenv("TAGGER_USER")
    monkeypatch.setattr(settings.getpass, "getuser", lambda: "osname")
    assert settings.default_reviewer() == "osname"

    def no_login():
        raise OSError("no login name")
    monkeypatch.setattr(settings.getpass, "getuser", no_login)
    assert settings.default_reviewer() == "reviewer" and st.clean_reviewer("") == "reviewer"


def test_reviewer_names_are_cleaned(ws, dev, monkeypatch):
    monkeypatch.setenv("TAGGER_USER", "kim")
    assert st.clean_reviewer("../../etc/passwd\x00\n") == "..-..-etc-passwd"
    assert st.clean_reviewer("a\tb\x1b[31mc") == "a b [31mc"
    assert st.clean_reviewer("x" * 200) == "x" * 60
    assert st.clean_reviewer("\x00\x07 ") == "kim" and st.clean_reviewer(None) == "kim"
    assert st.clean_reviewer("/") == "kim" and st.clean_reviewer("..") == "kim"
    st.set_status(ws, dev, 0, "accepted", "lee\r\n/root")
    assert st.statuses(ws, dev)[0]["reviewer"] == "lee -root"


def test_concurrent_writers_leave_consistent_versions(ws, dev):
    errors = []

    def work(name):
        try:
            mine = Workspace(ws.root)
            for k in range(12):
                st.set_status(mine, dev, k % 4, ("accepted", "skipped")[k % 2], name)
                if k % 3 == 0:
                    st.correct(mine, dev, 4 + k % 4, [Span(0, 1, "PS")], name)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in ("kim", "lee")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for table in ("statuses", "corrections"):
        rows = ws.query(f"SELECT sentence, version FROM {table} WHERE dataset_id=? ORDER BY sentence, version",
                        (dev,))
        by = {}
        for r in rows:
            by.setdefault(r["sentence"], []).append(r["version"])
        assert all(v == list(range(1, len(v) + 1)) for v in by.values()), (table, by)
    assert ws.one("SELECT COUNT(*) n FROM statuses")["n"] == 2 * (12 + 4)
    assert ws.one("SELECT COUNT(*) n FROM review_actions")["n"] == 2 * (12 + 4)
    undone = 0
    while st.undo_last(ws, dev, "kim"):
        undone += 1
    assert undone == 16 and set(st.reviewer_counts(ws, dev)) == {"lee"}
