"""The workspace side of language models and classifiers: the catalogue
knows each model's kind, every kind goes out as a zip and comes back
working, run configs of the new tasks are checked before a process starts,
and code that needs a tagger refuses the other kinds with a clear message."""
import io
import json
import zipfile

import pytest

from tagger.runs import control as runs
from tagger.workspace import classify as ws_classify, lm as ws_lm, models as ws_models
from tagger.models.classifier import ClassifierConfig
from tagger.training.classifier import train_classifier
from tagger.lm import LMTrainConfig, NgramConfig, RNNLMConfig, WindowConfig, train_lm
from tagger.runs.tasks import task_of
from tagger.training.tagger import TrainConfig
from tagger.core import TaggerError
from tagger.workspace.store import Workspace


@pytest.fixture
def ws():
    w = Workspace()
    for name in ("lm.txt", "lm_dev.txt", "classify.tsv", "ner_klue.tsv"):
        w.add_sample(name)
    return w


def _did(ws, name):
    return next(d["id"] for d in ws.datasets() if d["name"] == name)


def _texts(ws, name):
    return [s.text for s in ws.corpus(_did(ws, name)).sentences]


def _lm(ws, kind):
    cfg = {"ngram": NgramConfig(order=2, smoothing="addk", k=0.1), "window": WindowConfig(order=3, hidden_size=8,
           embedding_dim=8), "rnn": RNNLMConfig(hidden_size=8, embedding_dim=8, num_layers=1, cell="gru")}[kind]
    return train_lm(_texts(ws, "lm.txt"), _texts(ws, "lm_dev.txt"), kind=kind, tokenizer="char", config=cfg,
                    train_config=LMTrainConfig(epochs=1))


@pytest.mark.parametrize("kind", ["ngram", "window", "rnn"])
def test_language_models_round_trip_through_a_zip(ws, kind):
    row = ws_models.register(ws, _lm(ws, kind), name=f"lm {kind}")
    assert row["kind"] == "lm" and row["summary"]["lm_kind"] == kind and row["summary"]["dev_perplexity"] > 1
    data, fname = ws_models.export_zip(ws, row["id"])
    names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert names == {f"{row['id']}/model.json", f"{row['id']}/{'counts.json' if kind == 'ngram' else 'weights.pt'}"}
    back = ws_models.import_zip(ws, data, name=fname)
    assert back["kind"] == "lm" and back["source"] == "import" and back["id"] != row["id"]
    a = ws_lm.complete(ws, row["id"], "오늘 아침", top_k=3)
    b = ws_lm.complete(ws, back["id"], "오늘 아침", top_k=3)
    assert a["suggestions"] == b["suggestions"] and len(a["suggestions"]) == 3
    dev = _did(ws, "lm_dev.txt")
    assert ws_lm.evaluate(ws, row["id"], dev)["perplexity"] == ws_lm.evaluate(ws, back["id"], dev)["perplexity"]


def test_a_classifier_round_trips_through_a_zip(ws):
    sentences = ws.corpus(_did(ws, "classify.tsv")).sentences
    clf = train_classifier(sentences, sentences, tokenizer="char", config=ClassifierConfig(hidden_size=8),
                           train_config=TrainConfig(epochs=1))
    row = ws_models.register(ws, clf, name="sentiment")
    assert row["kind"] == "classifier" and row["summary"]["labels"] == ["긍정", "부정", "중립"]
    back = ws_models.import_zip(ws, ws_models.export_zip(ws, row["id"])[0], name="again.zip")
    assert back["kind"] == "classifier" and back["name"] == "again"
    texts = ["연기가 훌륭했어요", "최악이다"]
    assert ws_classify.classify(ws, row["id"], texts) == ws_classify.classify(ws, back["id"], texts)
    ev = ws_classify.evaluation(ws, back["id"], _did(ws, "classify.tsv"))
    assert ev["sentences"] == 30 and sum(map(sum, ev["confusion"]["matrix"])) == 30
    with pytest.raises(TaggerError, match="not text-label"):
        ws_classify.evaluation(ws, back["id"], _did(ws, "lm.txt"))


def test_a_zip_without_a_data_file_or_of_an_unknown_kind_is_refused(ws):
    row = ws_models.register(ws, _lm(ws, "ngram"), name="lm")
    d = ws_models.model_dir(ws, row["id"])
    only_json = io.BytesIO()
    with zipfile.ZipFile(only_json, "w") as zf:
        zf.write(d / "model.json", "x/model.json")
    with pytest.raises(TaggerError, match="exactly one model folder"):
        ws_models.import_zip(ws, only_json.getvalue())
    odd = io.BytesIO()
    meta = json.loads((d / "model.json").read_text(encoding="utf-8"))
    with zipfile.ZipFile(odd, "w") as zf:
        zf.writestr("x/model.json", json.dumps(dict(meta, kind="spaceship")))
        zf.write(d / "counts.json", "x/counts.json")
    with pytest.raises(TaggerError, match="unknown model kind 'spaceship'"):
        ws_models.import_zip(ws, odd.getvalue())
    assert [m["id"] for m in ws_models.models(ws)] == [row["id"]]


def test_models_are_listed_and_loaded_by_kind(ws):
    lm = ws_models.register(ws, _lm(ws, "ngram"), name="lm")
    assert ws_models.models(ws, kinds=("tagger",)) == []
    assert [m["id"] for m in ws_models.models(ws, kinds=("lm",))] == [lm["id"]]
    with pytest.raises(TaggerError, match="is a language model, not a tagger"):
        ws_models.load(ws, lm["id"])
    with pytest.raises(TaggerError, match="not a sentence classifier|not a classifier"):
        ws_classify.classify(ws, lm["id"], ["텍스트"])
    assert ws_models.load(ws, lm["id"], kinds=None).kind == "ngram"


def test_run_configs_of_the_new_tasks_are_checked(ws):
    lm, cls, ner = _did(ws, "lm.txt"), _did(ws, "classify.tsv"), _did(ws, "ner_klue.tsv")
    cfg = runs.check_config(ws, {"task": "lm", "train_id": lm, "lm_kind": "rnn",
                                 "lm": {"hidden_size": 32, "tie": True}})
    assert cfg["lm"]["embedding_dim"] == 32, "tied embeddings take the hidden size"
    assert runs.check_config(ws, {"train_id": ner})["task"] == "tagger"
    assert task_of({"task": "ner"}) == "tagger", "runs saved before tasks existed stay taggers"
    for bad, says in (({"task": "classifier", "train_id": ner}, "text-label"),
                      ({"task": "classifier", "train_id": cls, "dev_id": lm}, "text-label"),
                      ({"task": "lm", "train_id": lm, "lm_kind": "ngram", "lm": {"order": 7}}, "order"),
                      ({"task": "lm", "train_id": lm, "lm_kind": "ngram", "lm": {"smoothing": "magic"}}, "smoothing"),
                      ({"task": "lm", "train_id": lm, "lm_kind": "window", "lm": {"order": 1}}, "order"),
                      ({"task": "lm", "train_id": lm, "lm_kind": "rnn", "lm": {"cell": "tcn"}}, "cell"),
                      ({"task": "lm", "train_id": lm, "lm_kind": "rnn", "lm": {"order": 3}}, "unknown lm settings"),
                      ({"task": "lm", "train_id": lm, "lm_kind": "transformer"}, "unknown LM kind"),
                      ({"task": "lm", "train_id": lm, "lm_kind": "rnn", "train": {"epochs": 0}}, "epochs"),
                      ({"task": "classifier", "train_id": cls, "model": {"hidden_size": 0}}, "hidden_size"),
                      ({"task": "poetry", "train_id": lm}, "unknown task")):
        with pytest.raises(TaggerError, match=says):
            runs.check_config(ws, bad)
    assert runs.runs(ws) == [], "nothing was recorded for a refused config"


def test_an_ngram_run_finishes_in_the_run_process_code(ws):
    from tagger.runs.worker import execute
    rid = runs.create_run(ws, {"task": "lm", "train_id": _did(ws, "lm.txt"), "dev_id": _did(ws, "lm_dev.txt"),
                               "lm_kind": "ngram", "tokenizer": "char", "lm": {"order": 2}})
    assert runs.run(ws, rid)["progress"]["epochs"] == 0 and runs.run(ws, rid)["name"].startswith("LM ngram")
    assert execute(ws, rid) == 0
    r = runs.run(ws, rid)
    assert r["status"] == "done" and ws_models.model_row(ws, r["model_id"])["summary"]["dev_perplexity"] > 1
    assert any("held-out perplexity" in line for line in runs.log_lines(ws, rid))


def _lm_run(ws, epochs):
    return runs.create_run(ws, {"task": "lm", "train_id": _did(ws, "lm.txt"), "lm_kind": "rnn", "tokenizer": "char",
                                "lm": {"hidden_size": 8, "embedding_dim": 8, "num_layers": 1},
                                "train": {"epochs": epochs, "patience": 5}, "threads": 1})


def test_an_interrupted_rnn_lm_run_resumes_from_its_checkpoint_to_the_uninterrupted_result(ws):
    from tagger.runs.worker import execute
    whole = _lm_run(ws, 3)
    assert execute(ws, whole) == 0
    rid = _lm_run(ws, 1)  # stands for a 3-epoch run whose process died after epoch 1's checkpoint
    assert execute(ws, rid) == 0
    first = runs.history(ws, rid)
    assert [h["epoch"] for h in first] == [1]
    cfg = ws.one("SELECT config FROM runs WHERE id=?", (rid,))["config"]  # decoded JSON
    cfg["train"]["epochs"] = 3
    ws.execute("UPDATE runs SET status='queued', config=? WHERE id=?", (json.dumps(cfg), rid))
    assert execute(ws, rid) == 0
    assert any("resuming after epoch 1" in line for line in runs.log_lines(ws, rid))
    assert [h["loss"] for h in runs.history(ws, rid)] == [h["loss"] for h in runs.history(ws, whole)]
    assert [h["epoch"] for h in runs.history(ws, rid)] == [1, 2, 3]
    assert runs.history(ws, rid)[0] == first[0], "epoch 1 was not trained again (its timing is kept)"


def _classifier_run(ws, epochs):
    return runs.create_run(ws, {"task": "classifier", "train_id": _did(ws, "classify.tsv"), "tokenizer": "char",
                                "model": {"hidden_size": 8, "embedding_dim": 8, "num_layers": 1},
                                "train": {"epochs": epochs, "patience": 5}, "threads": 1})


def test_a_resumed_classifier_run_without_a_checkpoint_starts_again_and_says_so(ws):
    from tagger.runs.worker import execute
    rid = _classifier_run(ws, 2)
    assert execute(ws, rid) == 0 and [h["epoch"] for h in runs.history(ws, rid)] == [1, 2]
    (ws.root / "runs" / rid / "checkpoint.pt").unlink()  # as a run of the engine before classifier checkpoints
    ws.execute("UPDATE runs SET status='queued' WHERE id=?", (rid,))  # as resume_run leaves it
    assert execute(ws, rid) == 0
    assert [h["epoch"] for h in runs.history(ws, rid)] == [1, 2]
    assert any("starting again from the beginning" in line for line in runs.log_lines(ws, rid))


def test_an_interrupted_classifier_run_resumes_from_its_checkpoint_to_the_uninterrupted_result(ws):
    from tagger.runs.worker import execute
    whole = _classifier_run(ws, 3)
    assert execute(ws, whole) == 0
    rid = _classifier_run(ws, 1)  # stands for a 3-epoch run whose process died after epoch 1's checkpoint
    assert execute(ws, rid) == 0
    first = runs.history(ws, rid)
    cfg = ws.one("SELECT config FROM runs WHERE id=?", (rid,))["config"]
    cfg["train"]["epochs"] = 3
    ws.execute("UPDATE runs SET status='queued', config=? WHERE id=?", (json.dumps(cfg), rid))
    assert execute(ws, rid) == 0
    assert any("resuming after epoch 1" in line for line in runs.log_lines(ws, rid))
    assert not any("starting again" in line for line in runs.log_lines(ws, rid))
    assert [h["epoch"] for h in runs.history(ws, rid)] == [1, 2, 3]
    assert [h["loss"] for h in runs.history(ws, rid)] == [h["loss"] for h in runs.history(ws, whole)]
    assert runs.history(ws, rid)[0] == first[0], "epoch 1 was not trained again (its timing is kept)"
    a = ws_models.load(ws, runs.run(ws, rid)["model_id"], kinds=("classifier",))
    b = ws_models.load(ws, runs.run(ws, whole)["model_id"], kinds=("classifier",))
    texts = [s.text for s in ws.corpus(_did(ws, "classify.tsv")).sentences[:5]]
    assert a.predict(texts) == b.predict(texts)
