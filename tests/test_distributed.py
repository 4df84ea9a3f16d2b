"""Data-parallel training (tagger.training.distributed): two CPU processes with
gloo on 127.0.0.1. One DDP step equals one whole-batch step; ``torchrun -m
tagger train`` / ``lm-train --kind rnn`` finish and save an ordinary model; a
killed rank fails the run with one readable line and no model, and the run
resumes from the last complete checkpoint."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

ROOT = Path(__file__).resolve().parents[1]
SAMPLE, SAMPLE_DEV = ROOT / "data/samples/ner_klue.tsv", ROOT / "data/samples/ner_klue_dev.tsv"
TINY = ["--tokenizer", "char", "--hidden", "16", "--layers", "1", "--set", "embedding_dim=16",
        "--set", "char_dim=8", "--set", "bigram_dim=8"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
            "--master_port", str(free_port()), "-m", "tagger", *map(str, args)]


def env(**extra) -> dict:
    e = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    return {**e, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), **extra}


# ---- one DDP step == one whole-batch step ----------------------------------------------
def _setup(rows):
    """The real tagger, loop and loss on the first sentences of the bundled sample (no dropout)."""
    from tagger import api
    from tagger.models.encoding import DataConfig
    from tagger.models.tagger import Tagger, TaggerConfig, TaggerModel
    from tagger.training.tagger import TaggerLoop, TrainConfig, prepare
    from tagger.tokenizers import get_tokenizer
    sentences = api.load_corpus(SAMPLE).sentences[:4]
    types = sorted({sp.label for s in sentences for sp in s.spans})
    vocabs, enc, _, _ = prepare(sentences, sentences[:1], get_tokenizer("char"), None, types, [], DataConfig(),
                                bigrams=True)
    torch.manual_seed(3)
    cfg = TaggerConfig(hidden_size=16, embedding_dim=16, char_dim=8, bigram_dim=8, dropout=0.0, unk_dropout=0.0)
    module = Tagger(cfg, vocabs.sizes(), vocabs.tags)
    model = TaggerModel(module, vocabs, "char", "1", {"granularity": "char", "scheme": "bio"})
    loop = TaggerLoop(model, enc, enc, sentences[:1], TrainConfig(lr=0.01), [], torch.device("cpu"))
    idx = torch.tensor(rows)
    return loop, enc.batch(idx, int(enc.lengths[idx].max())), enc


def _one_step(rows, distribute: bool) -> dict:
    """The parameters and gradients after one step of the loop (SGD, lr 0.1: see the test)."""
    loop, batch, _ = _setup(rows)
    loop.opt = torch.optim.SGD(loop.module.parameters(), lr=0.1)
    if distribute:
        loop.distribute("loss")
    loop.step(loop.forward(batch), batch["mask"].sum())
    return {n: (p.detach().clone(), p.grad.clone()) for n, p in loop.module.named_parameters()}


def _rank(rank: int, store: str, halves, out: str) -> None:
    import torch.distributed as dist
    os.environ.update(WORLD_SIZE="2", RANK=str(rank), OMP_NUM_THREADS="1")
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        torch.save(_one_step(halves[rank], distribute=True), f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_one_ddp_step_equals_one_whole_batch_step(tmp_path, capsys):
    """Rank 0 holds sentences 0-1, rank 1 sentences 2-3 (unequal token counts):
    ``distributed.share`` reweights each rank's token-mean loss, so the averaged
    gradient is the whole batch's token mean (to float32 rounding, ~3e-7 at
    gradients up to 0.6), and so are the parameters after one step. The step is
    SGD: Adam's first step is lr * g / (|g| + 1e-8), which turns rounding in
    gradients near zero into differences up to ~3e-4 (measured), so it cannot
    show a 1e-6 agreement; the loop's own ``step`` (share, clip) is used."""
    halves = ([0, 1], [2, 3])
    _, _, enc = _setup([0])
    counts = [int(enc.lengths[h].sum()) for h in halves]
    assert counts[0] != counts[1]                    # the hard case: unequal halves
    mp.start_processes(_rank, args=(str(tmp_path / "store"), halves, str(tmp_path / "params")), nprocs=2,
                       start_method="spawn")
    whole = _one_step([0, 1, 2, 3], distribute=False)
    ranks = [torch.load(tmp_path / f"params.{r}") for r in (0, 1)]
    max_param = max(float((ranks[r][n][0] - p).abs().max()) for r in (0, 1) for n, (p, _) in whole.items())
    max_grad = max(float((ranks[r][n][1] - g).abs().max()) for r in (0, 1) for n, (_, g) in whole.items())
    assert max_param < 1e-6 and max_grad < 1e-6
    # the test can tell: the plain mean of the two halves' token means is another gradient
    a, b = _one_step(halves[0], False), _one_step(halves[1], False)
    naive = max(float(((a[n][1] + b[n][1]) / 2 - g).abs().max()) for n, (_, g) in whole.items())
    assert naive > 100 * max(max_grad, 1e-9)
    with capsys.disabled():
        print(f"\nDDP equivalence: max |param diff| {max_param:.2e}, max |grad diff| {max_grad:.2e} "
              f"(unweighted mean of halves: {naive:.2e})")


def test_batches_split_evenly_over_ranks(monkeypatch):
    import tagger.training.distributed as d
    monkeypatch.setattr(d, "active", lambda: True)
    monkeypatch.setattr(d.dist, "get_world_size", lambda: 2)
    batches = list(range(5))
    shares = []
    for r in (0, 1):
        monkeypatch.setenv("WORLD_SIZE", "2")
        monkeypatch.setenv("RANK", str(r))
        shares.append(d.shard_batches(batches))
    assert shares == [[0, 2, 4], [1, 3, 0]]          # padded by repeating the first batch
    assert d.shard_batches([7]) == [7]               # rank 1 of 2, one batch: it repeats it


def test_one_process_is_untouched(monkeypatch):
    import tagger.training.distributed as d
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not d.active() and d.is_main() and d.share(5) is None and d.shard_batches([1, 2, 3]) == [1, 2, 3]
    with d.session(torch.device("cpu")) as dev:
        assert dev == torch.device("cpu") and not torch.distributed.is_initialized()


# ---- torchrun -------------------------------------------------------------------------
@pytest.mark.slow
def test_torchrun_train_writes_one_ordinary_model(tmp_path):
    out = tmp_path / "m"
    r = subprocess.run(torchrun_cmd("train", "--train", SAMPLE, "--dev", SAMPLE_DEV, "--epochs", "2", *TINY,
                                    "--out", out), cwd=ROOT, env=env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines() == [str(out)]          # rank 1 printed nothing
    assert r.stderr.count("epoch 2/2") == 1 and r.stderr.count("device: cpu") == 1
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "model.json", "weights.pt"]
    from tagger.models.tagger import TaggerModel
    model = TaggerModel.load(out)
    assert not any(k.startswith("module.") for k in model.module.state_dict())
    assert len(model.predict(["김철수는 서울에 산다."])) == 1
    assert [h["epoch"] for h in model.meta["history"]] == [1, 2]


@pytest.mark.slow
def test_killed_rank_fails_cleanly_and_the_run_resumes(tmp_path):
    out, pidfile = tmp_path / "m", tmp_path / "rank1.pid"
    args = ("train", "--train", SAMPLE, "--dev", SAMPLE_DEV, "--epochs", "3", *TINY)
    p = subprocess.Popen(torchrun_cmd(*args, "--out", out), cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env(TAGGER_TEST_STALL=f"1:2:{pidfile}"))
    deadline = time.time() + 240
    while not pidfile.exists() and time.time() < deadline and p.poll() is None:
        time.sleep(0.2)
    assert pidfile.exists(), p.communicate()[1]
    os.kill(int(pidfile.read_text()), signal.SIGKILL)            # rank 1 dies at the start of epoch 2
    _, stderr = p.communicate(timeout=120)
    assert p.returncode != 0
    ours = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(ours) == 1 and "rank 0" in ours[0] and "no model written" in ours[0], stderr
    assert "tagger/" not in stderr                              # no traceback through our code
    assert not (out / "model.json").exists()                     # no model, half-written or otherwise
    assert (out / "checkpoint.pt").exists()                      # epoch 1's, complete
    r = subprocess.run(torchrun_cmd(*args, "--resume", out, "--out", out), cwd=ROOT, env=env(),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stderr and r.stderr.count("epoch 3/3") == 1
    from tagger.models.tagger import TaggerModel
    assert [h["epoch"] for h in TaggerModel.load(out).meta["history"]] == [1, 2, 3]


@pytest.mark.slow
def test_torchrun_rnn_lm(tmp_path):
    out = tmp_path / "lm"
    r = subprocess.run(torchrun_cmd("lm-train", "--kind", "rnn", "--text", ROOT / "data/samples/lm.txt",
                                    "--dev", ROOT / "data/samples/lm_dev.txt", "--tokenizer", "char",
                                    "--epochs", "2", "--hidden", "16", "--embedding-dim", "16",
                                    "--batch-size", "4", "--bptt", "10", "--out", out),
                       cwd=ROOT, env=env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines() == [str(out)] and r.stderr.count("epoch 2/2") == 1
    from tagger.lm import load_lm
    lm = load_lm(out)
    assert lm.kind == "rnn" and lm.meta["dev"]["perplexity"] > 1
    assert lm.complete("오늘", top_k=3)["suggestions"]
