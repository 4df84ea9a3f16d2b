"""Model directories and a workspace written by the engine before the
subpackage split (commit fc3d276, see tests/fixtures/legacy/make_legacy*.py)
still load, predict the same and show everything with today's code."""
import json
import shutil
from pathlib import Path

import pytest

from tagger.runs import control as runs
from tagger.workspace import models as ws_models
from tagger.models.classifier import ClassifierModel
from tagger.lm import load_lm
from tagger.models.tagger import TaggerModel
from tagger.workspace.store import Workspace

LEGACY = Path(__file__).resolve().parent / "fixtures" / "legacy"
ROOT = LEGACY.parents[2]
EXPECTED = json.loads((LEGACY / "expected.json").read_text(encoding="utf-8"))


def test_old_tagger_predicts_the_same():
    model = TaggerModel.load(LEGACY / "models" / "tagger")
    assert model.predict(EXPECTED["texts"]) == EXPECTED["tagger"]


def test_old_classifier_predicts_the_same():
    model = ClassifierModel.load(LEGACY / "models" / "classifier")
    got = model.predict(EXPECTED["texts"])
    assert [g["label"] for g in got] == [e["label"] for e in EXPECTED["classifier"]]
    for g, e in zip(got, EXPECTED["classifier"]):
        assert g["probs"] == pytest.approx(e["probs"], abs=1e-4)


@pytest.mark.parametrize("kind", ["ngram", "window", "rnn"])
def test_old_language_models_score_the_same(kind):
    lm = load_lm(LEGACY / "models" / f"lm_{kind}")
    exp = EXPECTED[f"lm_{kind}"]
    dev = [ln for ln in (ROOT / EXPECTED["dev_lines"]).read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert lm.evaluate(dev)["perplexity"] == pytest.approx(exp["perplexity"], rel=1e-6)
    got = lm.complete(EXPECTED["texts"][0][:6], top_k=5, samples=2)
    assert [s["token"] for s in got["suggestions"]] == [s["token"] for s in exp["complete"]["suggestions"]]
    assert got["samples"] == exp["complete"]["samples"]


def test_old_workspace_opens_and_shows_everything(tmp_path):
    exp = json.loads((LEGACY / "workspace_expected.json").read_text(encoding="utf-8"))
    shutil.copytree(LEGACY / "workspace", tmp_path / "ws")
    ws = Workspace(tmp_path / "ws")
    assert ws.summary() == exp["summary"]
    assert sorted(d["id"] for d in ws.datasets()) == exp["datasets"]
    assert len(ws.corpus(exp["dev_id"]).sentences) == exp["sentences"]
    got = {str(k): [[s.start, s.end, s.label] for s in v] for k, v in ws.corrections(exp["dev_id"]).items()}
    assert got == exp["corrections"] and ws.correction_versions(exp["dev_id"], 0) == exp["versions_0"]
    run = runs.run(ws, exp["run_id"])
    assert run["status"] == exp["run_status"] and run["model_id"] == exp["model_id"]
    assert {m["id"] for m in ws_models.models(ws)} == {exp["model_id"], exp["lm_id"]}
    text = ws.corpus(exp["dev_id"]).sentences[1].text
    assert ws_models.load(ws, exp["model_id"]).predict([text])[0]["entities"] == exp["prediction"]
    assert ws_models.load(ws, exp["lm_id"], kinds=("lm",)).kind == "ngram"
