"""``bench train`` / ``bench predict`` run on a tiny corpus (so they never rot);
the figures are shapes and consistency, never a time."""
import json
from pathlib import Path

import pytest
import torch

from conftest import assert_bad_input_exits_2, run_cli
from tagger.bench.train import BenchConfig, bench_train
from tagger.corpus.load import load_corpus

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "samples" / "ner_klue.tsv"
SMALL = ["--hidden", "16", "--layers", "1", "--batch-size", "8", "--device", "cpu"]
KEYS = {"engine_tokens_per_s", "bare_tokens_per_s", "ratio", "head", "device"}


@pytest.mark.parametrize("head", ["--crf", "--no-crf"])
def test_bench_train_json(capsys, head):
    code, out, errs = run_cli(capsys, "bench", "train", "--train", SAMPLE, head, *SMALL,
                              "--rounds", "1", "--json")
    assert code == 0, errs
    r = json.loads(out)
    assert KEYS <= set(r) and r["head"] == ("crf" if head == "--crf" else "softmax")
    assert r["device"] == "cpu" and r["tokenizer"] == "char"
    corpus = load_corpus(SAMPLE)
    assert r["sentences"] == len(corpus.sentences)
    assert r["tokens"] == sum(len(s.text) for s in corpus.sentences)      # real tokens, no padding
    assert r["padded_tokens"] >= r["tokens"]
    assert r["ratio"] == pytest.approx(r["engine_tokens_per_s"] / r["bare_tokens_per_s"])
    assert r["raw_lstm_tokens_per_s"] > 0 and ("crf_cost_vs_softmax" in r) == (head == "--crf")
    assert "round 1: engine" in errs


def test_bench_train_text_and_max_sentences(capsys):
    code, out, _ = run_cli(capsys, "bench", "train", "--train", SAMPLE, *SMALL, "--rounds", "1",
                           "--max-sentences", "5", "--no-reference")
    assert code == 0
    assert ": 5 sentences" in out and "ratio" in out and "raw fused" not in out


def test_bench_engine_and_bare_see_the_same_batches():
    """The bare loop gets exactly the batches the engine's next pass draws."""
    from tagger.bench.train import _same_batches, _setup
    from tagger.models.encoding import length_batches
    from tagger.models.tagger import TaggerConfig
    from tagger.training.tagger import TrainConfig
    sents = load_corpus(SAMPLE).sentences
    _, loop, _ = _setup(sents, TaggerConfig(hidden_size=8, num_layers=1), TrainConfig(batch_size=4),
                        BenchConfig(), torch.device("cpu"))
    ready = _same_batches(loop)
    drawn = length_batches(loop.enc_tr.lengths, 4, shuffle=True, generator=loop.gen)
    assert len(ready) == len(drawn)
    for b, (idx, n) in zip(ready, drawn):
        assert torch.equal(b["words"], loop.enc_tr.tensors["words"][idx, :n])


def test_bench_train_on_empty_corpus_is_an_error(tmp_path):
    from tagger.core import TaggerError
    with pytest.raises(TaggerError, match="no sentences"):
        bench_train([], cfg=BenchConfig(device="cpu"))


@pytest.mark.parametrize("argv", [
    ["bench", "train", "--train", "{tmp}/missing.tsv"],
    ["bench", "train", "--train", str(SAMPLE), "--max-sentences", "0"],
    ["bench", "predict", "--model", "{tmp}/full", "--data", str(SAMPLE)],
])
def test_bench_bad_input_exits_2(capsys, tmp_path, argv):
    assert_bad_input_exits_2(capsys, tmp_path, argv)


def test_bench_predict_json(capsys, tmp_path):
    out_dir = tmp_path / "m"
    code, _, errs = run_cli(capsys, "train", "--train", SAMPLE, *SMALL, "--epochs", "1", "--out", out_dir)
    assert code == 0, errs
    code, out, errs = run_cli(capsys, "bench", "predict", "--model", out_dir, "--data", SAMPLE,
                              "--latency-sentences", "5", "--json")
    assert code == 0, errs
    r = json.loads(out)
    assert r["sentences"] == len(load_corpus(SAMPLE).sentences) and r["tokens"] > r["sentences"]
    assert r["latency"]["n"] == 5 and r["latency"]["p95_ms"] >= r["latency"]["p50_ms"] > 0
    assert r["tokenizer_included"] is True and r["tokenizer"] == "char"
    code, out, _ = run_cli(capsys, "bench", "predict", "--model", out_dir, "--data", SAMPLE,
                           "--latency-sentences", "3")
    assert code == 0 and "p50" in out and "sentences/s" in out


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_bench_train_cuda_without_cuda_exits_2(capsys, tmp_path):
    assert_bad_input_exits_2(capsys, tmp_path, ["bench", "train", "--train", str(SAMPLE), "--device", "cuda"])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_bench_train_on_cuda(capsys):
    code, out, errs = run_cli(capsys, "bench", "train", "--train", SAMPLE, "--crf", "--hidden", "16",
                              "--layers", "1", "--device", "cuda", "--rounds", "1", "--json")
    assert code == 0, errs
    r = json.loads(out)
    assert r["device"].startswith("cuda") and r["crf_forward"] == "scan"
