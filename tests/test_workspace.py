"""The workspace service behind the app: datasets kept byte for byte, ids
never paths, corrections versioned with undo and a checked export, models in
and out as zips, background runs that survive, cancel, and resume."""
import io
import os
import signal
import time
import zipfile
from pathlib import Path

import pytest

from tagger import TaggerError
from tagger.runs import control as runs
from tagger.workspace import datasets as ws_data, models as ws_models
from tagger.workspace.annotate import export_corrected, preannotate
from tagger.corpus.load import load_corpus
from tagger.core.units import split_sentences
from ui.render import highlight_html, share_query
from tagger.workspace.evaluation import confusion, evaluation
from tagger.workspace.review import add_span, filter_rows, remove_span, review_rows, set_label
from tagger.runs.worker import execute
from tagger.core import Sentence, Span
from tagger.workspace.store import Workspace, check_id, clean_name

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
TINY = {"tokenizer": "char", "model": {"hidden_size": 8, "num_layers": 1, "embedding_dim": 8},
        "train": {"epochs": 2, "batch_size": 8, "patience": 2}, "threads": 1}


@pytest.fixture
def ws(tmp_path):
    return Workspace(tmp_path / "ws")


def _trained(ws):
    """A tiny model trained in this process (no worker): (model id, train id, dev id)."""
    tr, _ = ws.add_sample("ner_klue.tsv")
    dv, _ = ws.add_sample("ner_klue_dev.tsv")
    rid = runs.create_run(ws, dict(TINY, train_id=tr["id"], dev_id=dv["id"]))
    assert execute(ws, rid) == 0, runs.log_lines(ws, rid)
    return runs.run(ws, rid)["model_id"], tr["id"], dv["id"]


def test_ids_are_never_paths():
    assert check_id("m-0123456789", "m") == "m-0123456789"
    for bad in ("../m-0123456789", "/etc/passwd", "m-0123456789/..", "models\\x", "..", "m-../../x"):
        with pytest.raises(TaggerError, match="never by a path"):
            check_id(bad, "m")
    for bad in ("", "m-0123", "d-0123456789", "<script>"):
        with pytest.raises(TaggerError, match="is not a model id"):
            check_id(bad, "m")
    assert clean_name("../../etc/pass\x00wd") == "passwd"


def test_dataset_kept_byte_for_byte_and_not_twice(ws):
    raw = "김철수는 서울에 산다.\tB-PS O O\r\n".encode("cp949")
    d, created = ws.add_dataset("C:\\up\\가.tsv", raw)
    assert created and d["name"] == "가.tsv" and d["encoding"] == "cp949"
    assert d["format"] == "sentence-tags" and d["stats"]["sentences"] == 1
    assert ws.raw_bytes(d["id"]) == raw
    again, created = ws.add_dataset("other.tsv", raw)
    assert not created and again["id"] == d["id"]
    assert len(ws.datasets()) == 1
    ws.delete_dataset(d["id"])
    assert ws.datasets() == [] and not (ws.root / "datasets" / d["id"]).exists()
    with pytest.raises(TaggerError, match="not in this workspace"):
        ws.dataset(d["id"])


def test_report_names_line_and_shows_it(ws):
    d, _ = ws.add_dataset("bad.tsv", "김\tB-PS\n철\tI-PS\n수\tX-??\n\n".encode(), format="klue")
    rep = ws_data.report(ws, d["id"])
    assert rep["problem_rows"], rep
    row = rep["problem_rows"][0]
    assert row["location"] == "bad.tsv:3" and row["line"] == "수\tX-??"


def test_statistics_tokenize_and_split(ws):
    d, _ = ws.add_sample("ner_klue.tsv")
    s = ws_data.statistics(ws, d["id"])
    assert s["entities"]["QT"] == 16 and sum(b["sentences"] for b in s["length_hist"]) == 28
    seen = []
    res = ws_data.tokenize_dataset(ws, d["id"], "char", progress=lambda done, total: seen.append(done))
    assert res["coverage"]["coverage"] == 1.0 and res["vocab_size"] > 100 and 0 < res["dev_oov_rate"] < 1
    assert seen[-1] == 28 and res["examples"][0]["rows"][0] == {
        "token": "김", "start": 0, "end": 1, "form": "", "pos": "", "gold": "B-PS"}
    assert ws.tokenizations(d["id"])[0]["tokenizer"] == "char"
    tr, dv = ws_data.split_dataset(ws, d["id"], 0.25, seed=3)
    assert tr["stats"]["sentences"] + dv["stats"]["sentences"] == 28 and dv["stats"]["sentences"] == 7
    assert tr["format"] == dv["format"] == "klue"
    assert ws.raw_bytes(d["id"]) == (SAMPLES / "ner_klue.tsv").read_bytes()


def test_corrections_versioned_undo_and_export_round_trip(ws):
    d, _ = ws.add_sample("ner_conll.tsv")
    sent = ws.corpus(d["id"]).sentences[0]
    first = set_label(sent.spans, 0, "LC")
    assert ws.save_correction(d["id"], 0, first) == 1
    second, replaced = add_span(first, 0, len(sent.text.split()[0]), "PS")
    assert replaced and ws.save_correction(d["id"], 0, second) == 2
    assert ws.corrections(d["id"])[0] == sorted(second)
    assert ws.undo_correction(d["id"], 0) and ws.corrections(d["id"])[0] == sorted(first)
    assert ws.corpus(d["id"]).sentences[0].spans == sent.spans  # the original is untouched
    out = export_corrected(ws, d["id"])
    assert out["corrected"] == 1 and out["problems"] == [] and out["filename"] == "ner_conll.corrected.tsv"
    path = ws.root / "back.tsv"
    path.write_bytes(out["data"])
    back = load_corpus(path)
    assert back.sentences[0].spans == sorted(first) and len(back.sentences) == len(ws.corpus(d["id"]).sentences)
    assert ws.raw_bytes(d["id"]) == (SAMPLES / "ner_conll.tsv").read_bytes()
    assert ws.undo_correction(d["id"], 0) and not ws.undo_correction(d["id"], 0)
    assert export_corrected(ws, d["id"])["data"] == (SAMPLES / "ner_conll.tsv").read_bytes()
    with pytest.raises(TaggerError):
        ws.save_correction(d["id"], 999, [])
    with pytest.raises(TaggerError, match="not an entity type"):
        set_label(first, 0, "B-PS")
    assert remove_span(first, 0) == sorted(first)[1:]


def test_confusion_has_missed_and_spurious():
    gold = [Sentence("김철수 서울 삼성", [Span(0, 3, "PS"), Span(4, 6, "LC"), Span(7, 9, "OG")])]
    pred = [[Span(0, 3, "PS"), Span(4, 6, "OG"), Span(10, 11, "DT")]]
    m = confusion(gold, pred)["matrix"]
    assert m["PS"]["PS"] == 1 and m["LC"]["OG"] == 1 and m["OG"]["(missed)"] == 1
    assert m["(spurious)"]["DT"] == 1 and m["PS"]["(missed)"] == 0


def test_model_evaluate_review_zip_roundtrip_and_delete(ws):
    mid, tr, dv = _trained(ws)
    ev = evaluation(ws, mid, dv)
    assert 0.0 <= ev["entity_f1"] <= 1.0 and set(ev["errors"]) >= {"boundary", "type", "missed", "spurious"}
    rows = review_rows(ws, dv, mid)
    assert len(rows) == 8 and all(r["min_conf"] is not None for r in rows)
    assert filter_rows(rows, only_disagreements=True) == [r for r in rows if r["disagree"]]
    lowest = filter_rows(rows, lowest_first=True)
    assert [r["min_conf"] for r in lowest] == sorted(r["min_conf"] for r in rows)
    data, name = ws_models.export_zip(ws, mid)
    assert name == f"{mid}.zip" and sorted(zipfile.ZipFile(io.BytesIO(data)).namelist()) == [
        f"{mid}/model.json", f"{mid}/weights.pt"]
    imported = ws_models.import_zip(ws, data, name="from-gpu.zip")
    assert imported["id"] != mid and imported["source"] == "import" and imported["name"] == "from-gpu"
    texts = ["김민준 기자는 서울에 갔다."]
    assert ws_models.load(ws, imported["id"]).predict(texts) == ws_models.load(ws, mid).predict(texts)
    ws_models.delete(ws, mid)
    with pytest.raises(TaggerError, match="not in this workspace"):
        ws_models.load(ws, mid)


def test_import_refuses_bad_zips(ws, tmp_path):
    with pytest.raises(TaggerError, match="not a zip"):
        ws_models.import_zip(ws, b"not a zip")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../../evil/model.json", '{"kind": "tagger", "format_version": 1}')
        zf.writestr("../../evil/weights.pt", b"\x80\x04crafted pickle")
    with pytest.raises(TaggerError):
        ws_models.import_zip(ws, buf.getvalue())
    assert not (tmp_path / "evil").exists() and not list((ws.root / "models").iterdir())


def test_preannotate_text_then_review_and_export(ws):
    mid, _, _ = _trained(ws)
    text, _ = ws.add_dataset("raw.txt", "김민준 기자는 서울에 갔다.\n삼성전자는 3일 발표했다.\n".encode())
    assert text["format"] == "text"
    with pytest.raises(TaggerError, match="pre-annotate"):
        export_corrected(ws, text["id"])
    new = preannotate(ws, text["id"], mid, "klue")
    assert new["format"] == "klue" and new["stats"]["sentences"] == 2 and new["stats"]["errors"] == 0
    ws.save_correction(new["id"], 0, [Span(0, 3, "PS")])
    out = export_corrected(ws, new["id"])
    assert out["corrected"] == 1 and out["problems"] == []


def test_render_escapes_and_share_link():
    html = highlight_html("<script>alert(1)</script> 김철수", [Span(18, 21, "P<S")])
    assert "<script>" not in html and "&lt;script&gt;" in html and "P&lt;S" in html
    assert 'class="ent"' in html
    assert split_sentences("첫 문장이다. 둘째 문장!\n셋째") == ["첫 문장이다.", "둘째 문장!", "셋째"]
    assert share_query("m-0123456789", "김 & 이").startswith("?model=m-0123456789&text=")


def _wait_until(ws, rid, cond, what, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        r = runs.run(ws, rid)
        if cond(r):
            return r
        time.sleep(0.1)
    raise AssertionError(f"run {rid} never {what} ({r['status']}): {runs.log_lines(ws, rid)}")


@pytest.mark.slow
def test_background_run_interrupted_resumed_and_cancelled(ws):
    tr, _ = ws.add_sample("ner_klue.tsv")
    dv, _ = ws.add_sample("ner_klue_dev.tsv")
    long = dict(TINY, train_id=tr["id"], dev_id=dv["id"],
                train={"epochs": 400, "batch_size": 8, "patience": 400})
    rid = runs.start_run(ws, long)
    # two finished epochs: the checkpoint of the first is surely on disk
    r = _wait_until(ws, rid, lambda r: len(runs.history(ws, rid)) >= 2, "ran two epochs")
    os.killpg(r["pid"], signal.SIGKILL)  # a crash: no chance to write a status
    r = _wait_until(ws, rid, lambda r: r["status"] == "interrupted", "showed as interrupted")
    assert "resume" in r["error"]
    done_before = len(runs.history(ws, rid))
    runs.resume_run(ws, rid)
    _wait_until(ws, rid, lambda r: any("resuming after epoch" in x for x in runs.log_lines(ws, rid)),
                "resumed from its checkpoint")
    _wait_until(ws, rid, lambda r: len(runs.history(ws, rid)) > done_before, "went on training")
    runs.cancel_run(ws, rid)
    r = runs.wait(ws, rid, timeout=30)
    assert r["status"] == "cancelled" and not runs.alive(r["pid"], r["pid_start"])

    quick = runs.start_run(ws, dict(TINY, train_id=tr["id"], dev_id=dv["id"]), name="tiny")
    r = runs.wait(ws, quick, timeout=90)
    assert r["status"] == "done", runs.log_lines(ws, quick)
    assert r["device"] == "cpu" and len(runs.history(ws, quick)) == 2
    assert ws_models.model_row(ws, r["model_id"])["run_id"] == quick
    runs.delete_run(ws, quick)
    assert ws_models.model_row(ws, r["model_id"])  # the model stays


def test_bad_run_configs_are_refused(ws):
    tr, _ = ws.add_sample("ner_klue.tsv")
    with pytest.raises(TaggerError, match="unknown model settings"):
        runs.create_run(ws, {"train_id": tr["id"], "model": {"hiddn": 3}})
    with pytest.raises(TaggerError, match="never by a path"):
        runs.create_run(ws, {"train_id": "../../etc/passwd"})
    rid = runs.create_run(ws, {"train_id": tr["id"], "tokenizer": "char", "train": {"epochs": 1},
                               "model": {"rnn_type": "nope"}})
    assert execute(ws, rid) != 0 and runs.run(ws, rid)["status"] == "failed"


def test_layering():
    """tagger never imports streamlit; pages never import konlpy."""
    for path in (ROOT / "tagger").rglob("*.py"):
        assert "import streamlit" not in path.read_text(encoding="utf-8"), path
    for path in [ROOT / "app.py", *(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "konlpy" not in text and "jpype" not in text, path
