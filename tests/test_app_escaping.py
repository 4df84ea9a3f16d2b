"""A corpus whose text holds <script> (and a file name that is HTML) is shown
as text on every page: uploaded through the Data page, highlighted on Review,
typed into the Demo; no raw tag reaches an HTML element."""
import html
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tagger.runs import control as runs
from tagger.runs.worker import execute
from tagger.workspace.store import Workspace

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
EVIL = "<script>alert('x')</script>"
NAME = '<img src=x onerror="alert(1)">.tsv'
CORPUS = (f"{EVIL} 김철수는 서울에 산다.\tO B-PS B-LC O\n"
          "<b>굵게</b> 이영희가 부산에서 왔다.\tO B-PS B-LC O\n"
          "삼성전자는 3일 신제품을 발표했다.\tB-OG B-DT O O\n").encode("utf-8")


def _unsafe_html(at) -> list[str]:
    """Everything rendered as raw HTML: st.html bodies and unsafe markdown."""
    out = [h.proto.body for h in at.html]
    out += [m.value for m in at.markdown if m.proto.allow_html]
    return out


def _assert_escaped(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    for body in _unsafe_html(at):
        assert "<script" not in body.lower() and "<img" not in body.lower() and "<b>" not in body, body


def test_script_in_an_uploaded_file_renders_as_text(monkeypatch, tmp_path):
    monkeypatch.setenv("TAGGER_WORKSPACE", str(tmp_path / "ws"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/1_data.py")
    at.run()
    at.file_uploader[0].upload(NAME, CORPUS, "text/tab-separated-values").run()
    _assert_escaped(at)
    ws = Workspace()
    (d,) = ws.datasets()
    assert d["format"] == "sentence-tags" and d["stats"]["errors"] == 0
    assert ws.corpus(d["id"]).sentences[0].text.startswith(EVIL)

    at.switch_page("app_pages/4_review.py")
    at.run()
    _assert_escaped(at)
    gold = at.html[0].proto.body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in gold and "<mark" in gold

    for label in ("Next",):
        next(b for b in at.button if b.label == label).click().run()
        _assert_escaped(at)
        assert "&lt;b&gt;굵게&lt;/b&gt;" in at.html[0].proto.body


def test_script_typed_into_the_demo_renders_as_text(monkeypatch, tmp_path):
    monkeypatch.setenv("TAGGER_WORKSPACE", str(tmp_path / "ws"))
    ws = Workspace()
    tr, _ = ws.add_dataset(NAME, CORPUS)
    rid = runs.create_run(ws, {"train_id": tr["id"], "dev_id": tr["id"], "tokenizer": "char", "threads": 1,
                               "model": {"hidden_size": 8, "num_layers": 1, "embedding_dim": 8},
                               "train": {"epochs": 1}})
    assert execute(ws, rid) == 0
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/5_demo.py")
    at.query_params["text"] = f"{EVIL} 김철수는 서울에 산다."
    at.run()
    _assert_escaped(at)
    body = at.html[0].proto.body  # entity marks may cut the text anywhere: drop marks and labels
    assert html.escape(EVIL) in re.sub(r"<sup[^>]*>.*?</sup>|<[^>]*>", "", body)


def test_script_in_lm_text_suggestions_and_class_labels_renders_as_text(monkeypatch, tmp_path):
    """An LM trained on text full of tags suggests '<' tokens; a classifier's labels are HTML:
    the LM page, its suggestions and samples, and the Demo's labels stay text."""
    from tagger.workspace import models as ws_models
    from tagger.models.classifier import ClassifierConfig
    from tagger.training.classifier import train_classifier
    from tagger.lm import NgramConfig, train_lm
    from tagger.training.tagger import TrainConfig
    monkeypatch.setenv("TAGGER_WORKSPACE", str(tmp_path / "ws"))
    ws = Workspace()
    lines = [f"{EVIL} 좋은 영화\t<b>good</b>", "<img src=x> 나쁜 영화\tbad", f"{EVIL} 정말 좋다\t<b>good</b>",
             "<img src=x> 최악이다\tbad"]
    d, _ = ws.add_dataset("evil.tsv", ("\n".join(lines) + "\n").encode("utf-8"))
    sentences = ws.corpus(d["id"]).sentences
    texts = [s.text for s in sentences]
    lm = ws_models.register(ws, train_lm(texts, kind="ngram", tokenizer="char", config=NgramConfig(order=2)),
                            name=NAME)
    clf = train_classifier(sentences, sentences, tokenizer="char", config=ClassifierConfig(hidden_size=8),
                           train_config=TrainConfig(epochs=1))
    cid = ws_models.register(ws, clf, name=NAME)["id"]
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/6_language-models.py")
    at.run()
    at.text_input(key="lm_prefix").set_value("<scr").run()
    _assert_escaped(at)
    chips = next(h.proto.body for h in at.html if 'class="suggestions"' in h.proto.body)
    assert ">i <small" in chips, "the LM learnt '<script': its next token is 'i'"
    assert any("&lt;scr" in h.proto.body for h in at.html if 'class="completion"' in h.proto.body)
    for mid, text in ((lm["id"], "<img"), (cid, f"{EVIL} 좋은 영화")):
        at = AppTest.from_file(APP, default_timeout=60)
        at.switch_page("app_pages/5_demo.py")
        at.query_params.update({"model": mid, "text": text})
        at.run()
        _assert_escaped(at)
    label = next(h.proto.body for h in at.html if 'class="classified"' in h.proto.body)
    assert "&lt;b&gt;good&lt;/b&gt;" in label or ">bad <small>" in label
    assert html.escape(EVIL) in label
