"""Sentence classification: pooling, overfitting a tiny set, scores, CLI contract (char tokenizer: no JVM)."""
import copy
import json
from pathlib import Path

import pytest
import torch

from tagger.models.classifier import Classifier, ClassifierConfig
from tagger.scoring import score_labels
from tagger.training.classifier import train_classifier
from tagger.cli import main
from tagger.corpus.load import load_corpus
from tagger.training.tagger import TrainConfig
from tagger.training.loop import Callback
from tagger.core import TaggerError
from conftest import assert_bad_input_exits_2, run_cli

ROOT = Path(__file__).resolve().parent.parent
CLS = ROOT / "data" / "samples" / "classify.tsv"
FAST = ["--tokenizer", "char", "--hidden", "32", "--batch-size", "8", "--lr", "0.01", "--device", "cpu"]


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs with one intra-op thread (conftest)."""


@pytest.mark.parametrize("pooling", ["final", "max"])
def test_pooling_ignores_padding(pooling):
    torch.manual_seed(0)
    net = Classifier(ClassifierConfig(embedding_dim=8, hidden_size=8, num_layers=2, pooling=pooling), 20, 3).eval()
    short = torch.tensor([[5, 6, 7]])
    batch = torch.tensor([[5, 6, 7, 0, 0], [8, 9, 10, 11, 12]])
    mask = batch > 0
    alone = net(short, short > 0)
    together = net(batch, mask)
    assert together.shape == (2, 3) and torch.allclose(alone[0], together[0], atol=1e-6)


def test_classifier_overfits_a_tiny_set():
    sents = load_corpus(CLS).sentences
    model = train_classifier(sents, sents, tokenizer="char",
                             config=ClassifierConfig(embedding_dim=32, hidden_size=32, dropout=0.0),
                             train_config=TrainConfig(epochs=40, batch_size=8, lr=0.02, device="cpu", patience=40))
    r = model.evaluate(sents)
    assert r["accuracy"] == 1.0 and r["macro_f1"] == 1.0
    assert sum(map(sum, r["confusion"]["matrix"])) == len(sents)


def test_score_labels():
    r = score_labels(["a", "a", "b", "c"], ["a", "b", "b", "a"], ["a", "b"])
    assert r["accuracy"] == 0.5
    assert r["per_class"]["a"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert r["per_class"]["c"]["support"] == 1 and r["confusion"]["labels"] == ["a", "b", "c"]
    assert r["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0) / 3)


run = run_cli  # (exit code, stdout, stderr) of an in-process CLI call


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("clf") / "model"
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    assert main(["classify-train", "--train", str(CLS), *FAST, "--epochs", "2", "--out", str(out)]) == 0
    torch.set_num_threads(n)
    return out


def test_classify_train_eval_predict(model_dir, capsys):
    code, out, _ = run(capsys, "classify-eval", "--model", model_dir, "--data", CLS, "--json")
    assert code == 0
    r = json.loads(out)
    assert {"accuracy", "macro_f1", "per_class"} <= set(r) and set(r["per_class"]) <= {"긍정", "부정", "중립"}
    code, out, _ = run(capsys, "classify-eval", "--model", model_dir, "--data", CLS)
    assert code == 0 and "accuracy" in out and "confusion" in out
    code, out, _ = run(capsys, "classify-predict", "--model", model_dir, "--json", "정말 재미있는 영화", "최악")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 2 and rows[0]["label"] in rows[0]["probs"]
    assert sum(rows[0]["probs"].values()) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("argv", [
    ["classify-train", "--train", "nope.tsv", "--out", "{tmp}/a"],
    ["classify-train", "--train", str(ROOT / "data" / "samples" / "ner_klue.tsv"), "--out", "{tmp}/a"],
    ["classify-train", "--train", str(CLS), "--epochs", "0", "--out", "{tmp}/a"],
    ["classify-train", "--train", str(CLS), "--out", "{tmp}/full"],
    ["classify-eval", "--model", "{tmp}", "--data", str(CLS)],
    ["classify-eval", "--model", "{tmp}/tagger", "--data", str(CLS)],
    ["classify-predict", "--model", "{tmp}/nothing", "x"],
])
def test_classify_cli_bad_input_exits_2(argv, tmp_path, capsys):
    assert_bad_input_exits_2(capsys, tmp_path, argv)


def test_classify_eval_bad_corpus_line_exits_2(model_dir, tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("좋아요\t긍정\n라벨 없음\t\n", encoding="utf-8")
    code, out, errs = run(capsys, "classify-eval", "--model", model_dir, "--data", bad)
    assert code == 2 and f"{bad}:2: error:" in errs and out == ""


class _KeepCheckpoints(Callback):
    def __init__(self):
        self.checkpoints = []

    def on_checkpoint(self, state):
        self.checkpoints.append(copy.deepcopy(state))


def test_classifier_resumed_from_an_epoch_checkpoint_equals_the_uninterrupted_run():
    """The classifier trains on the shared epoch loop: a checkpoint after every
    epoch, and a run resumed from epoch 2's ends where the whole run does."""
    sents = load_corpus(CLS).sentences
    cfg = ClassifierConfig(embedding_dim=8, hidden_size=8, dropout=0.3)
    tc = TrainConfig(epochs=4, batch_size=8, lr=0.02, device="cpu", patience=4)
    keep = _KeepCheckpoints()
    full = train_classifier(sents[:-6], sents[-6:], tokenizer="char", config=cfg, train_config=tc, callbacks=[keep])
    assert [c["epoch"] for c in keep.checkpoints] == [1, 2, 3, 4]
    again = train_classifier(sents[:-6], sents[-6:], tokenizer="char", config=cfg, train_config=tc,
                             resume=keep.checkpoints[1])
    assert [r["epoch"] for r in again.meta["history"]] == [1, 2, 3, 4]
    assert again.meta["history"][:2] == full.meta["history"][:2], "epochs 1-2 come from the checkpoint"
    assert [r["loss"] for r in again.meta["history"]] == [r["loss"] for r in full.meta["history"]]
    assert again.meta["best_epoch"] == full.meta["best_epoch"] and again.meta["dev_scores"] == full.meta["dev_scores"]
    a, b = again.module.state_dict(), full.module.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in b)
    with pytest.raises(TaggerError, match="differ"):
        train_classifier(sents[:5], sents[-6:], tokenizer="char", config=cfg, train_config=tc,
                         resume=keep.checkpoints[1])
