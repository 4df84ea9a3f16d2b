"""Language models: n-gram smoothing, perplexity, truncated BPTT, CLI contract
(eojeol/char tokenizers only: no JVM)."""
import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from tagger.cli import main
from tagger.lm import LMDataConfig, LMTrainConfig, NgramConfig, RNNLMConfig, WindowConfig, load_lm, save_lm, train_lm
from tagger.lm.common import build_vocab, predictable, to_ids
from tagger.lm.ngram import train_ngram
from tagger.lm.rnn import RNNLM, RNNLMNet, columns, detach_state
from tagger.lm.train import rnn_epoch
from tagger.training.tagger import Callback
from tagger.core import TaggerError
from conftest import assert_bad_input_exits_2, run_cli

ROOT = Path(__file__).resolve().parent.parent
LM_TXT = ROOT / "data" / "samples" / "lm.txt"
TOKS = [s.split() for s in ["a b c a b", "b c d", "a a b c d e", "c d a"]]
ONE = LMDataConfig(min_freq=1)


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs with one intra-op thread (conftest)."""


def _ngram(order, smoothing):
    vocab = build_vocab(TOKS, ONE)
    return train_ngram(to_ids(TOKS, vocab), NgramConfig(order, smoothing, 0.5), vocab, "eojeol", "1")


@pytest.mark.parametrize("smoothing", ["kn", "addk"])
@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_ngram_probabilities_sum_to_one(order, smoothing):
    lm = _ngram(order, smoothing)
    ids = lm.vocab.indices
    for context in ([], ids(["a"]), ids(["a", "b"]), ids(["e", "e", "e"]), ids(["zz", "a", "b"])):
        p = lm.next_probs(context)
        assert p.sum() == pytest.approx(1.0, abs=1e-9)
        assert p[0] == 0 and p[2] == 0 and (p[predictable(len(p))] > 0).all()  # <pad>, <s> never predicted
        h = tuple(([2] * 4 + list(context))[-(order - 1):]) if order > 1 else ()
        scalar = [lm.prob(w, h) for w in range(len(p)) if predictable(len(p))[w]]
        assert sum(scalar) == pytest.approx(1.0, abs=1e-9)


def test_kneser_ney_beats_add_k_and_counts_unseen_ngrams():
    vocab = build_vocab(TOKS, ONE)
    held = to_ids([["a", "b", "c", "d"], ["b", "x"]], vocab)
    kn, addk = _ngram(3, "kn"), _ngram(3, "addk")
    assert kn.score_ids(held) > addk.score_ids(held)
    unseen = kn.unseen_ngrams(held)
    assert list(unseen) == ["1", "2", "3"] and unseen["1"] <= unseen["2"] <= unseen["3"]
    assert unseen["1"] == pytest.approx(1 / 8)  # "x" is <unk>, never in training: 1 of 8 predicted tokens


def test_uniform_model_perplexity_is_vocabulary_size():
    vocab = build_vocab(TOKS, ONE)
    net = RNNLMNet(RNNLMConfig("gru", 8, 8, 1, 0.0, False), len(vocab))
    with torch.no_grad():
        net.out.weight.zero_()
        net.out.bias.zero_()
    lm = RNNLM(net, vocab, "eojeol", "1")
    r = lm.evaluate_tokens(TOKS, [" ".join(t) for t in TOKS])
    n_pred = len(vocab) - 2  # every token but <pad> and <s>
    assert r["perplexity"] == pytest.approx(n_pred, rel=1e-5)
    assert r["tokens"] == sum(len(t) + 1 for t in TOKS)
    addk = train_ngram(to_ids(TOKS, vocab), NgramConfig(1, "addk", 1e9), vocab, "eojeol", "1")
    assert addk.evaluate_tokens(TOKS, [" ".join(t) for t in TOKS])["perplexity"] == pytest.approx(n_pred, rel=1e-4)


def test_bptt_state_is_carried_and_detached_across_chunks():
    torch.manual_seed(0)
    net = RNNLMNet(RNNLMConfig("lstm", 8, 8, 2, 0.0, False), 20)
    stream = np.random.default_rng(0).integers(3, 20, size=41)
    x, y = columns(stream, 4)                                            # (4, 10)
    assert x.shape == (4, 10) and (y >= 0).sum() == 40
    assert torch.equal(x[:, 1:][y[:, :-1] >= 0], y[:, :-1][y[:, :-1] >= 0])  # targets are the next inputs
    seen, forward = [], net.forward

    def spy(xc, state=None):
        seen.append(state)
        logits, new = forward(xc, state)
        seen.append(new)
        return logits, new
    net.forward = spy
    rnn_epoch(net, x, y, LMTrainConfig(bptt=3, device="cpu"), torch.optim.SGD(net.parameters(), lr=0.1))
    ins, outs = seen[0::2], seen[1::2]
    assert len(ins) == 4 and ins[0] is None                               # chunks of 3, 3, 3, 1 steps
    for prev_out, nxt_in in zip(outs, ins[1:]):
        for a, b in zip(prev_out, nxt_in):
            assert torch.equal(a.detach(), b)                             # carried ...
            assert b.grad_fn is None and not b.requires_grad              # ... and detached
            assert a.grad_fn is not None                                  # (the output itself had a graph)
    assert detach_state(None) is None


def test_rnn_lm_overfits_a_tiny_text():
    lines = ["철수와 영희는 식탁에 앉아 사과를 먹었다"] * 12
    lm = train_lm(lines, lines, kind="rnn", tokenizer="eojeol", data_config=ONE,
                  config=RNNLMConfig("lstm", 32, 32, 1, 0.0, True),
                  train_config=LMTrainConfig(epochs=40, batch_size=2, bptt=10, lr=0.02, device="cpu", patience=40))
    assert lm.evaluate(lines)["perplexity"] < 1.3
    top = lm.complete("철수와 영희는 식탁에 앉아 사과를", top_k=1)["suggestions"][0]
    assert top["token"] == "먹었다" and top["prob"] > 0.8


def test_window_lm_trains_and_round_trips(tmp_path):
    lines = [line.strip() for line in LM_TXT.read_text(encoding="utf-8").splitlines()]
    lm = train_lm(lines[:40], lines[40:], kind="window", tokenizer="char", config=WindowConfig(3, 8, 16),
                  train_config=LMTrainConfig(epochs=2, device="cpu"))
    before = lm.evaluate(lines[40:])
    assert math.isfinite(before["perplexity"]) and 0 < before["oov_rate"] < 1
    after = load_lm(save_lm(lm, tmp_path / "w")).evaluate(lines[40:])
    assert after["perplexity"] == pytest.approx(before["perplexity"], rel=1e-6)


# ---- CLI ------------------------------------------------------------------------------
run = run_cli  # (exit code, stdout, stderr) of an in-process CLI call


@pytest.fixture(scope="module")
def ngram_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("lm") / "ngram"
    assert main(["lm-train", "--text", str(LM_TXT), "--kind", "ngram", "--order", "3", "--tokenizer", "eojeol",
                 "--out", str(out)]) == 0
    return out


def test_lm_train_prints_the_directory_and_eval_json(ngram_dir, capsys):
    assert json.loads((ngram_dir / "model.json").read_text(encoding="utf-8"))["kind"] == "lm"
    code, out, errs = run(capsys, "lm-eval", "--model", ngram_dir, "--text", LM_TXT, "--json")
    assert code == 0
    r = json.loads(out)
    assert {"perplexity", "bits_per_char", "tokens", "oov_rate", "unseen_ngrams"} <= set(r)
    assert r["tokens"] == sum(len(s.split()) + 1 for s in LM_TXT.read_text(encoding="utf-8").splitlines() if s.strip())
    assert r["perplexity"] > 1 and r["bits_per_char"] > 0 and 0 < r["oov_rate"] < 1
    code, out, _ = run(capsys, "lm-eval", "--model", ngram_dir, "--text", LM_TXT)
    assert code == 0 and "perplexity" in out


def test_lm_complete_json(ngram_dir, capsys):
    code, out, _ = run(capsys, "lm-complete", "--model", ngram_dir, "--top-k", "3", "--sample", "2",
                       "--temperature", "0.8", "--json", "오늘", "아침")
    assert code == 0
    r = json.loads(out)
    assert r["prefix"] == "오늘 아침" and len(r["samples"]) == 2
    assert len(r["suggestions"]) == 3 and all({"token", "prob"} == set(s) for s in r["suggestions"])
    assert r["suggestions"][0]["prob"] >= r["suggestions"][-1]["prob"] > 0


@pytest.mark.parametrize("argv", [
    ["lm-train", "--text", "nope.txt", "--kind", "ngram", "--out", "{tmp}/a"],
    ["lm-train", "--text", str(LM_TXT), "--kind", "ngram", "--order", "6", "--out", "{tmp}/a"],
    ["lm-train", "--text", str(LM_TXT), "--kind", "ngram", "--cell", "gru", "--out", "{tmp}/a"],
    ["lm-train", "--text", str(LM_TXT), "--kind", "rnn", "--tie", "--hidden", "8", "--embedding-dim", "4",
     "--out", "{tmp}/a"],
    ["lm-train", "--text", str(LM_TXT), "--kind", "rnn", "--epochs", "0", "--out", "{tmp}/a"],
    ["lm-train", "--text", str(LM_TXT), "--kind", "ngram", "--tokenizer", "eojeol", "--out", "{tmp}/full"],
    ["lm-eval", "--model", "{tmp}", "--text", str(LM_TXT)],
    ["lm-eval", "--model", "{tmp}/tagger", "--text", str(LM_TXT)],
    ["lm-complete", "--model", "{tmp}/nothing", "x"],
])
def test_lm_cli_bad_input_exits_2(argv, tmp_path, capsys):
    assert_bad_input_exits_2(capsys, tmp_path, argv)


def test_lm_complete_bad_temperature_and_tampered_counts(ngram_dir, tmp_path, capsys):
    code, out, errs = run(capsys, "lm-complete", "--model", ngram_dir, "--sample", "1", "--temperature", "0", "x")
    assert code == 2 and out == ""
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in ngram_dir.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    (bad / "counts.json").write_text('{"counts": []}')
    code, out, errs = run(capsys, "lm-eval", "--model", bad, "--text", LM_TXT)
    assert code == 2 and "checksum" in errs


def test_konlpy_corpora_are_the_bundled_default_text(tmp_path, capsys):
    from tagger.corpus.konlpy_text import konlpy_sentences
    sentences = konlpy_sentences()
    assert len(sentences) > 2000 and all(s == s.strip() and s for s in sentences)
    assert sentences[0].startswith("대한민국헌법")  # kolaw's constitution.txt comes first
    code, out, _ = run(capsys, "lm-train", "--text", "konlpy", "--text", LM_TXT, "--kind", "ngram", "--order", "2",
                       "--tokenizer", "eojeol", "--out", tmp_path / "ko")
    meta = json.loads((tmp_path / "ko" / "model.json").read_text(encoding="utf-8"))
    own = [x for x in LM_TXT.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert code == 0 and meta["train_lines"] == len(sentences) + len(own)


class _Keep(Callback):
    def __init__(self):
        self.checkpoints = []

    def on_checkpoint(self, state):
        self.checkpoints.append(copy.deepcopy(state))


@pytest.mark.parametrize("kind,cfg", [("rnn", RNNLMConfig("lstm", 16, 16, 1, 0.3, False)), ("window", WindowConfig(3, 8, 16, 0.3))])
def test_neural_lm_resumed_from_a_checkpoint_equals_the_uninterrupted_run(kind, cfg):
    lines = LM_TXT.read_text(encoding="utf-8").splitlines()
    tc = LMTrainConfig(epochs=4, patience=4, batch_size=2, bptt=8, window_batch=16, device="cpu")
    keep = _Keep()
    full = train_lm(lines, kind=kind, tokenizer="char", config=cfg, train_config=tc, data_config=ONE, callbacks=[keep])
    assert [c["epoch"] for c in keep.checkpoints] == [1, 2, 3, 4]
    again = train_lm(lines, kind=kind, tokenizer="char", config=cfg, train_config=tc, data_config=ONE,
                     resume=keep.checkpoints[1])
    assert [r["epoch"] for r in again.meta["history"]] == [1, 2, 3, 4]
    assert [r["loss"] for r in again.meta["history"]] == [r["loss"] for r in full.meta["history"]]
    assert again.evaluate(lines[:5])["perplexity"] == full.evaluate(lines[:5])["perplexity"]
    with pytest.raises(TaggerError, match="vocabulary differs"):
        train_lm(lines[:3], kind=kind, tokenizer="char", config=cfg, train_config=tc, data_config=ONE,
                 resume=keep.checkpoints[1])
