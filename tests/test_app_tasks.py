"""The app's language-model and classifier parts through streamlit's AppTest:
the Language models page (perplexity table and chart, n-gram sparsity,
autocomplete), the Train page's two new tasks run to the end in the
background process, the classifier report on Evaluate, the Demo page and
its share links for both kinds, and the tagger-only pages listing taggers
only. Tiny models, trained through the engine API in a fixture."""
import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tagger.runs import control as runs
from tagger.workspace import classify as ws_classify, lm as ws_lm, models as ws_models
from tagger.models.classifier import ClassifierConfig
from tagger.training.classifier import train_classifier
from tagger.lm import LMTrainConfig, NgramConfig, RNNLMConfig, load_lm, train_lm
from tagger.training.tagger import TrainConfig
from tagger.workspace.store import Workspace

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
LM_PAGE = "app_pages/6_language-models.py"


def _texts(ws, did):
    return [s.text for s in ws.corpus(did).sentences]


@pytest.fixture(scope="module")
def tasks_dir(tmp_path_factory):
    """lm.txt, lm_dev.txt, classify.tsv; an n-gram LM, an RNN LM, a classifier and a tagger."""
    from tagger import api
    root = tmp_path_factory.mktemp("tasks")
    ws = Workspace(root)
    lm_d, _ = ws.add_sample("lm.txt")
    dev_d, _ = ws.add_sample("lm_dev.txt")
    cls_d, _ = ws.add_sample("classify.tsv")
    ner_d, _ = ws.add_sample("ner_klue.tsv")
    texts, dev = _texts(ws, lm_d["id"]), _texts(ws, dev_d["id"])
    tagger = api.train(ws.corpus(ner_d["id"]), tokenizer="char", hidden_size=8, embedding_dim=8, num_layers=1,
                       epochs=1, batch_size=8)
    ws_models.register(ws, tagger, name="tiny tagger")
    ngram = train_lm(texts, dev, kind="ngram", tokenizer="char", config=NgramConfig(order=3))
    ws_models.register(ws, ngram, name="char trigram")
    rnn = train_lm(texts, dev, kind="rnn", tokenizer="char",
                   config=RNNLMConfig(hidden_size=16, embedding_dim=16, num_layers=1, tie=False),
                   train_config=LMTrainConfig(epochs=1))
    ws_models.register(ws, rnn, name="char lstm")
    sentences = ws.corpus(cls_d["id"]).sentences
    clf = train_classifier(sentences, sentences, tokenizer="char", config=ClassifierConfig(hidden_size=8,
                           embedding_dim=8), train_config=TrainConfig(epochs=3, batch_size=8))
    ws_models.register(ws, clf, name="sentiment")
    return root


@pytest.fixture
def tasks(tasks_dir, monkeypatch):
    monkeypatch.setenv("TAGGER_WORKSPACE", str(tasks_dir))
    return Workspace(tasks_dir)


def _ids(ws, kind):
    return {m["name"]: m["id"] for m in ws_models.models(ws, kinds=(kind,))}


def _app(page, query=None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    if query:
        at.switch_page(page)
        at.query_params.update(query)
    at.run()
    if not query:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _dataset(ws, name):
    return next(d["id"] for d in ws.datasets() if d["name"] == name)


def test_lm_page_compares_perplexity_on_held_out_text(tasks):
    at = _app(LM_PAGE)
    held = next(s for s in at.selectbox if s.label.startswith("Held-out text"))
    held.set_value(_dataset(tasks, "lm_dev.txt")).run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("name")
    assert set(table.index) == {"char trigram", "char lstm"}
    assert list(table.columns[:6]) == ["model", "kind", "tokenizer", "perplexity", "bits/char", "OOV rate"]
    dev = _texts(tasks, _dataset(tasks, "lm_dev.txt"))
    for name, mid in _ids(tasks, "lm").items():
        want = load_lm(ws_models.model_dir(tasks, mid)).evaluate(dev)
        assert table.loc[name, "perplexity"] == pytest.approx(want["perplexity"])
        assert table.loc[name, "OOV rate"] == pytest.approx(want["oov_rate"])
        assert 1 < want["perplexity"] < math.inf and want["oov_rate"] > 0  # lm_dev.txt has unseen characters
    assert table.loc["char trigram", "kind"] == "ngram 3 · kn"
    assert table.loc["char lstm", "kind"] == "rnn lstm 1×16"
    assert len(at.get("vega_lite_chart")) >= 3  # perplexity, bits/char, sparsity


def test_lm_page_shows_ngram_sparsity_by_order(tasks):
    at = _app(LM_PAGE)
    next(s for s in at.selectbox if s.label.startswith("Held-out text")).set_value(
        _dataset(tasks, "lm_dev.txt")).run()
    sparsity = at.dataframe[1].value
    assert list(sparsity.index) == [1, 2, 3]
    shares = [float(v.rstrip("%")) for v in sparsity.iloc[:, 0]]
    mid = _ids(tasks, "lm")["char trigram"]
    unseen = ws_lm.evaluate(tasks, mid, _dataset(tasks, "lm_dev.txt"))["unseen_ngrams"]
    assert shares == [round(100 * unseen[k], 1) for k in ("1", "2", "3")]
    assert shares[0] <= shares[1] <= shares[2] and shares[2] > 0


def test_lm_page_autocomplete_suggests_and_samples(tasks):
    at = _app(LM_PAGE)
    mid = _ids(tasks, "lm")["char trigram"]
    next(s for s in at.selectbox if s.label == "Language model").set_value(mid).run()
    at.text_input(key="lm_prefix").set_value("오늘 아침").run()
    assert not at.exception
    sugg = at.dataframe[-1].value
    want = load_lm(ws_models.model_dir(tasks, mid)).complete("오늘 아침", top_k=5)["suggestions"]
    assert list(sugg["next token"]) == [ws_lm.show_token(s["token"]) for s in want]
    assert list(sugg["probability"]) == pytest.approx([s["prob"] for s in want])
    assert sugg["probability"].is_monotonic_decreasing and 0 < sugg["probability"].sum() <= 1
    samples = [h.proto.body for h in at.html if 'class="completion"' in h.proto.body]
    assert len(samples) == 3 and all(s.count("오늘 아침") == 1 for s in samples)
    at.number_input(key="lm_page_samples").set_value(1).run()
    at.slider(key="lm_page_temp").set_value(0.2).run()
    assert len([h for h in at.html if 'class="completion"' in h.proto.body]) == 1
    before = [h.proto.body for h in at.html if 'class="completion"' in h.proto.body]
    at.number_input(key="lm_page_samples").set_value(5).run()
    next(b for b in at.button if b.label == "Sample again").click().run()
    assert not at.exception and at.session_state["lm_page_seed"] == 2
    assert [h.proto.body for h in at.html if 'class="completion"' in h.proto.body] != before


def test_evaluate_shows_the_classifier_report(tasks):
    at = _app("app_pages/3_evaluate.py")
    model_box = next(s for s in at.selectbox if s.label == "Model")
    assert not any(o.startswith("LM ·") for o in model_box.options), "language models are not evaluated here"
    assert any(o.startswith("classifier · sentiment") for o in model_box.options)
    cid = _ids(tasks, "classifier")["sentiment"]
    model_box.set_value(cid).run()
    assert not at.exception
    want = ws_classify.evaluation(tasks, cid, _dataset(tasks, "classify.tsv"))
    metrics = {m.label: m.value for m in at.metric}
    assert float(metrics["accuracy"]) == pytest.approx(want["accuracy"], abs=1e-4)
    assert float(metrics["macro F1"]) == pytest.approx(want["macro_f1"], abs=1e-4)
    per_class = at.table[0].value
    assert set(per_class.index) == {"긍정", "부정", "중립"}
    confusion = at.dataframe[0].value
    assert int(confusion.values.sum()) == 30 and list(confusion.columns) == list(confusion.index)
    assert "Per class" in [s.value for s in at.subheader] and "Confusion matrix" in [s.value for s in at.subheader]


def test_demo_and_share_link_for_a_language_model(tasks):
    mid = _ids(tasks, "lm")["char trigram"]
    at = _app("app_pages/5_demo.py", {"model": mid, "text": "오늘 아침"})
    assert at.text_area[0].value == "오늘 아침"
    assert any(b.label == "Complete" for b in at.button)
    sugg = at.dataframe[0].value
    assert len(sugg) == 5 and sugg["probability"].is_monotonic_decreasing
    assert len([h for h in at.html if 'class="completion"' in h.proto.body]) == 3
    assert f"?model={mid}&text=" in at.code[-1].value


def test_demo_and_share_link_for_a_classifier(tasks):
    cid = _ids(tasks, "classifier")["sentiment"]
    at = _app("app_pages/5_demo.py", {"model": cid, "text": "배우들 연기가 정말 훌륭했어요. <b>두 시간이</b> 아깝다."})
    labelled = [h.proto.body for h in at.html if 'class="classified"' in h.proto.body]
    assert len(labelled) == 2 and "<b>" not in labelled[1] and "&lt;b&gt;" in labelled[1]
    want = ws_classify.classify(tasks, cid, ["배우들 연기가 정말 훌륭했어요."])[0]
    assert f'data-label="{want["label"]}"' in labelled[0]
    for df in at.dataframe:
        assert set(df.value["label"]) == {"긍정", "부정", "중립"}
        assert df.value["probability"].sum() == pytest.approx(1.0, abs=1e-3)
    assert f"?model={cid}&text=" in at.code[-1].value


def test_tagger_only_pages_list_only_taggers(tasks):
    taggers = set(_ids(tasks, "tagger").values())
    at = _app("app_pages/4_review.py")
    box = next(s for s in at.selectbox if s.label == "Predictions of")
    assert {o.split(" · ")[-1] for o in box.options if o.startswith("tiny")} == taggers
    assert len(box.options) == 1 + len(taggers)
    at = _app("app_pages/1_data.py")
    pre = next(s for s in at.selectbox if s.key == "_pre_model")
    assert len(pre.options) == 1 + len(taggers)
    lm_id = _ids(tasks, "lm")["char lstm"]
    from tagger.workspace import evaluation
    from tagger.core import TaggerError
    with pytest.raises(TaggerError, match="is a language model, not a tagger"):
        evaluation.evaluation(tasks, lm_id, _dataset(tasks, "ner_klue.tsv"))


def _train_page(ws, task: str):
    at = _app("app_pages/2_train.py")
    at.radio(key="train_task").set_value(task).run()
    assert not at.exception
    return at


def _set(at, values: dict):
    for label, value in values.items():
        widget = next(w for w in list(at.number_input) + list(at.selectbox) if w.label == label)
        widget.set_value(value)


def _run_to_end(at, ws):
    next(b for b in at.button if b.label == "Start training").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    rid = at.session_state["run"]
    r = runs.wait(ws, rid, timeout=180)
    assert r["status"] == "done", runs.log_lines(ws, rid)
    at.run()
    assert not at.exception
    return r


def test_train_page_runs_a_language_model_in_the_background():
    ws = Workspace()
    ws.add_sample("lm.txt")
    at = _train_page(ws, "lm")
    at.radio(key="lm_kind").set_value("rnn").run()
    _set(at, {"Tokenizer": "char", "Layers": 1, "Hidden size": 8, "Token embedding (tied: the hidden size)": 8,
              "Epochs": 1, "CPU threads": 1})
    r = _run_to_end(at, ws)
    assert r["config"]["task"] == "lm" and r["config"]["lm_kind"] == "rnn"
    assert r["config"]["lm"]["hidden_size"] == 8 and r["config"]["train"]["epochs"] == 1
    row = ws_models.model_row(ws, r["model_id"])
    assert row["kind"] == "lm" and row["summary"]["lm_kind"] == "rnn"
    assert ws_models.model_json(ws, r["model_id"])["kind"] == "lm"
    assert len(runs.history(ws, r["id"])) == 1 and "dev_perplexity" in runs.history(ws, r["id"])[0]
    assert any(m.label == "best dev perplexity" for m in at.metric)
    assert any("Language models page" in s.value for s in at.success)


def test_train_page_runs_a_classifier_in_the_background():
    ws = Workspace()
    ws.add_sample("classify.tsv")
    at = _train_page(ws, "classifier")
    _set(at, {"Hidden size (per direction)": 8, "Token embedding": 8, "Epochs": 2, "Batch size": 8,
              "CPU threads": 1})
    r = _run_to_end(at, ws)
    assert r["config"]["task"] == "classifier" and r["config"]["model"]["hidden_size"] == 8
    row = ws_models.model_row(ws, r["model_id"])
    assert row["kind"] == "classifier" and set(row["summary"]["labels"]) == {"긍정", "부정", "중립"}
    assert [h["epoch"] for h in runs.history(ws, r["id"])] == [1, 2]
    assert any(m.label == "best dev accuracy" for m in at.metric)


def test_train_page_classifier_needs_a_text_label_dataset():
    ws = Workspace()
    ws.add_sample("lm.txt")
    at = _train_page(ws, "classifier")
    assert any("text-label" in i.value for i in at.info) and not any(b.label == "Start training" for b in at.button)


def test_train_page_imports_language_models_and_classifiers_from_zips(tasks_dir):
    src = Workspace(tasks_dir)
    ws = Workspace()  # this test's own, empty workspace
    ws.add_sample("lm.txt")
    at = _app("app_pages/2_train.py")
    for kind in ("lm", "classifier"):
        data, fname = ws_models.export_zip(src, ws_models.models(src, kinds=(kind,))[0]["id"])
        at.file_uploader[0].upload(fname, data, "application/zip").run()
        assert not at.exception and any("imported as" in s.value for s in at.success), [e.value for e in at.error]
    assert [m["kind"] for m in ws_models.models(ws)] == ["classifier", "lm"]
    at.run()
    table = next(d.value for d in at.dataframe if "kind" in d.value.columns)
    assert sorted(table["kind"]) == ["classifier", "lm"]
    assert any(s.startswith("dev perplexity") for s in table["held-out score"])
