"""Security: share links name workspace ids only; upload names never become
paths; the upload size limit; user text and labels escaped wherever they
become HTML; crafted pickles refused wherever a tensor file is read.

Already elsewhere: tests/test_model.py::test_crafted_pickle_is_refused_and_never_runs
(model weights), tests/test_workspace.py::test_ids_are_never_paths and
::test_import_refuses_bad_zips, tests/test_app_escaping.py (text in uploads
and the Demo), tests/test_app_pages.py::test_demo_share_link_and_bad_links."""
import hashlib
import io
import json
import os
import pickle
import tomllib
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import example, given, settings, strategies as st
from streamlit.testing.v1 import AppTest

from tagger import TaggerError
from tagger.runs import control as runs
from tagger.workspace import models as ws_models
from ui.render import highlight_html
from tagger.runs.worker import execute
from tagger.settings import DEFAULT_MAX_UPLOAD_MB
from tagger.workspace.ids import clean_name
from tagger.models.saving import CHECKPOINT
from tagger.core import Span
from tagger.workspace.store import Workspace

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TINY = {"tokenizer": "char", "threads": 1, "model": {"hidden_size": 8, "num_layers": 1, "embedding_dim": 8},
        "train": {"epochs": 1, "batch_size": 8}}
PAYLOADS = ["<script>alert('x')</script>", '<img src=x onerror="alert(1)">', '" onmouseover="alert(1)',
            "' onfocus='alert(1)", "</mark><script>x</script>"]
HOSTILE_LABEL = '"><img/src=x/onerror=alert(1)>'
ALLOWED = {"div": {"class", "style"}, "span": {"style"}, "mark": {"class", "data-label", "style"}, "sup": {"style"}}


class _Html(HTMLParser):
    """Tags with their attributes, marks' labels, and the visible text without the label superscripts."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.labels, self.sups, self.text, self.head = [], [], [], [], []
        self._in_sup = self._in_head = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_sup = tag == "sup"
        self._in_head = tag == "span"
        if tag == "mark":
            self.labels.append(dict(attrs).get("data-label"))

    def handle_endtag(self, tag):
        self._in_sup = self._in_head = False

    def handle_data(self, data):
        (self.sups if self._in_sup else self.head if self._in_head else self.text).append(data)


def assert_safe_html(body: str) -> _Html:
    parsed = _Html(body)
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED and set(attrs) <= ALLOWED[tag], (tag, attrs, body)
        assert not any(k.startswith("on") for k in attrs)
    return parsed


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=2000, database=None)
@given(text=st.lists(st.sampled_from(list("<>\"'&=/ 김서울x") + PAYLOADS), max_size=12).map("".join),
       labels=st.lists(st.sampled_from(["PS", HOSTILE_LABEL, *PAYLOADS]), min_size=0, max_size=3),
       title=st.sampled_from(["", "gold", *PAYLOADS]))
def test_highlighted_html_escapes_text_labels_and_title(text, labels, title):
    spans = [Span(i * 3, i * 3 + 2, lab) for i, lab in enumerate(labels) if i * 3 + 2 <= len(text)]
    parsed = assert_safe_html(highlight_html(text, spans, title))
    assert "".join(parsed.text) == text                       # every character shown as text
    assert parsed.labels == [s.label for s in spans]          # attributes intact, not broken out of
    assert "".join(parsed.head) == title
    assert "".join(parsed.sups) == "".join(s.label for s in spans)


def test_hostile_labels_and_text_render_as_text_on_review_and_demo(monkeypatch):
    ws = Workspace()
    lines = [(PAYLOADS[2], "김철수는 서울에 산다.", f"B-{HOSTILE_LABEL} B-LC O"),
             (PAYLOADS[1], "이영희가 왔다.", f"B-{HOSTILE_LABEL} O")]
    corpus = "".join(f"{p} {t}\t{' '.join(['O'] * len(p.split()))} {tags}\n" for p, t, tags in lines) * 3
    d, _ = ws.add_dataset("hostile.tsv", corpus.encode("utf-8"))
    assert d["format"] == "sentence-tags" and d["stats"]["errors"] == 0
    rid = runs.create_run(ws, dict(TINY, train_id=d["id"], dev_id=d["id"], train={"epochs": 30, "lr": 0.05}))
    assert execute(ws, rid) == 0
    mid = runs.run(ws, rid)["model_id"]
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/4_review.py")
    at.run()
    assert not at.exception and at.html
    shown = [assert_safe_html(h.proto.body) for h in at.html]
    assert HOSTILE_LABEL in [lab for p in shown for lab in p.labels]
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/5_demo.py")
    at.query_params["model"] = mid
    at.query_params["text"] = f"{PAYLOADS[0]} {PAYLOADS[2]} 김철수는 서울에 산다."
    at.run()
    assert not at.exception and at.html
    for h in at.html:
        assert PAYLOADS[0] in "".join(assert_safe_html(h.proto.body).text)


@pytest.fixture
def seeded():
    ws = Workspace()
    d, _ = ws.add_sample("ner_klue.tsv")
    rid = runs.create_run(ws, dict(TINY, train_id=d["id"]))
    assert execute(ws, rid) == 0
    return ws, d["id"], rid, runs.run(ws, rid)["model_id"]


@pytest.mark.parametrize("kind", ["dataset", "run", "path", "dotdot", "encoded", "unknown"])
def test_share_links_name_model_ids_only(seeded, kind):
    ws, did, rid, mid = seeded
    bad, says = {"dataset": (did, "is not a model id"), "run": (rid, "is not a model id"),
                 "path": (str(ws.root / "models" / mid), "never by a path"),
                 "dotdot": (f"../models/{mid}", "never by a path"), "encoded": ("..%2F..%2Fetc", "never by a path"),
                 "unknown": ("m-0000000000", "not in this workspace")}[kind]
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/5_demo.py")
    at.query_params["model"] = bad
    at.query_params["text"] = "김철수는 서울에 산다."
    at.run()
    assert not at.exception
    assert any(says in e.value for e in at.error), [e.value for e in at.error]


@pytest.mark.parametrize("name", ["../../../escaped.tsv", "/tmp/escaped.tsv", "..\\..\\escaped.tsv",
                                  "escaped.tsv\x00.png", "....//escaped.tsv"])
def test_upload_names_never_become_paths(name, tmp_path, monkeypatch):
    monkeypatch.setenv("TAGGER_WORKSPACE", str(tmp_path / "a" / "b" / "ws"))
    before = {p for p in Path("/tmp").glob("escaped*")}
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/1_data.py")
    at.run()
    at.file_uploader[0].upload(name, "김철수는 서울에 산다.\tB-PS B-LC O\n".encode(), "text/plain").run()
    assert not at.exception
    ws = Workspace()
    (d,) = ws.datasets()
    assert d["name"].startswith("escaped.tsv") and "/" not in d["name"] and "\\" not in d["name"]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not [p for p in files if "escaped" in str(p)]
    assert all(ws.root in p.parents for p in files)
    assert {p for p in Path("/tmp").glob("escaped*")} == before


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=2000, database=None)
@given(st.text(max_size=60))
@example(".")
@example("..")
@example(" . ")
@example("a/..")
def test_clean_name_is_never_a_path(name):
    cleaned = clean_name(name)
    assert cleaned and "/" not in cleaned and "\\" not in cleaned and cleaned not in (".", "..")
    assert not any(ord(c) < 32 for c in cleaned) and len(cleaned) <= 120


def test_upload_size_limit_is_enforced_with_a_clear_message(monkeypatch):
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == DEFAULT_MAX_UPLOAD_MB       # the app and the engine agree
    monkeypatch.setenv("TAGGER_MAX_UPLOAD_MB", "0.001")                      # about 1 KB
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/1_data.py")
    at.run()
    at.file_uploader[0].upload("big.tsv", ("김철수는 서울에 산다.\tB-PS B-LC O\n" * 60).encode(), "text/plain").run()
    assert not at.exception
    assert any("big.tsv" in e.value and "over the upload limit of 0.001 MB" in e.value for e in at.error), \
        [e.value for e in at.error]
    ws = Workspace()
    assert ws.datasets() == [] and not list((ws.root / "datasets").iterdir())
    with pytest.raises(TaggerError, match="over the upload limit"):
        ws_models.import_zip(ws, b"PK" + b"\0" * 2000, name="big.zip")
    ws.add_dataset("small.tsv", "김철수는 서울에 산다.\tB-PS B-LC O\n".encode())   # under the limit: fine


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_crafted_pickle_in_a_zip_or_a_checkpoint_is_refused_and_never_runs(seeded, tmp_path):
    ws, did, _, mid = seeded
    marker = tmp_path / "pwned"
    evil = pickle.dumps({"w": _Evil(marker)})
    meta = ws_models.model_json(ws, mid)
    meta["weights"]["sha256"] = hashlib.sha256(evil).hexdigest()          # even with a matching checksum
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("m/model.json", json.dumps(meta))
        zf.writestr("m/weights.pt", evil)
    with pytest.raises(TaggerError, match="refused"):
        ws_models.import_zip(ws, buf.getvalue(), name="evil.zip")
    assert [m["id"] for m in ws_models.models(ws)] == [mid]
    rid = runs.create_run(ws, dict(TINY, train_id=did))                    # a planted checkpoint
    (ws.root / "runs" / rid / CHECKPOINT).write_bytes(evil)
    assert execute(ws, rid) != 0
    r = runs.run(ws, rid)
    assert r["status"] == "failed" and "refused" in r["error"] and r["model_id"] is None
    assert not marker.exists()


def test_a_bad_upload_limit_setting_is_a_clear_message(monkeypatch):
    monkeypatch.setenv("TAGGER_MAX_UPLOAD_MB", "lots")
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/1_data.py")
    at.run()
    assert not at.exception
    at.file_uploader[0].upload("a.tsv", "김철수는 서울에 산다.\tB-PS B-LC O\n".encode(), "text/plain").run()
    assert not at.exception
    assert any("TAGGER_MAX_UPLOAD_MB='lots' is not a number" in e.value for e in at.error), [e.value for e in at.error]
    assert Workspace().datasets() == []
