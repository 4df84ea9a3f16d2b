"""Kkma on a real local Ray cluster (``ray.init(num_cpus=2)``, shut down at
the end): the output equals the local worker pool's, order is kept, a killed
actor loses nothing, the cache answers a second run, and ``tokenize`` (the CLI
command) locally and with ``--ray``.  One shared pool of 2 actors (2 JVMs)
serves the Kkma tests; the fault tests at the end run a fake worker on actors
of their own (real Ray, no JVM)."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import unicodedata

import pytest

try:
    import ray
except ImportError:   # pragma: no cover - CI installs requirements.txt
    pytest.skip("ray cannot be imported (pip install ray==2.60.0)", allow_module_level=True)

from tagger import load_corpus
from tagger.cli import main
from tagger.settings import SAMPLES_DIR
from tagger.tokenizers.cache import TokenCache
from tagger.tokenizers.kkma import CharKkmaTokenizer, KkmaTokenizer
from tagger.tokenizers.pool import WorkerPool
from tagger.tokenizers.ray_pool import RayPool, ray_pool

_MISSING = [what for what, ok in [
    ("java", shutil.which("java") or os.environ.get("JAVA_HOME")),
    ("konlpy", importlib.util.find_spec("konlpy"))] if not ok]
needs_kkma = pytest.mark.skipif(bool(_MISSING), reason=f"Kkma needs {', '.join(_MISSING)}")
pytestmark = [pytest.mark.kkma, pytest.mark.slow]

LONG = " ".join(["서울시는 2019년 3월 15일 오후 2시에 새 교통 정책을 발표했다."] * 24)   # ~900 chars: 4 pieces
HOSTILE = ["", "   \t ", "가" + "ㅋ" * 200 + " 웃겼다", "좋아요😀 정말 🎉최고", unicodedata.normalize("NFD", "한국어 문장을 분해했다."),
           LONG, "ㄷ" * 200, "끝."]


def sample_texts() -> list[str]:
    texts = []
    for path in sorted(SAMPLES_DIR.glob("*.tsv")):
        texts += [s.text for s in load_corpus(path).sentences]
    return texts


def dump(res) -> bytes:
    rows = [[[t.text, t.start, t.end, t.form, t.pos, list(t.feats) if t.feats else None] for t in toks]
            for toks in res.tokens]
    return json.dumps([rows, res.fallbacks], ensure_ascii=False).encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def local():
    tok = KkmaTokenizer()
    yield tok
    tok.close()


@pytest.fixture(scope="module")
def pool(cluster):
    p = ray_pool("auto")        # the one every Ray-backed tokenizer here shares
    p.chunk = 4                 # many chunks from a small corpus
    yield p
    p.close()


@pytest.fixture(scope="module")
def on_ray(pool):
    tok = KkmaTokenizer()
    tok.use_ray("auto")
    return tok


@pytest.fixture(scope="module")
def reference(local):
    """The local path's results on the samples (and hostile lines)."""
    texts = sample_texts()
    return texts, local.tokenize_many(texts, cache=False, workers=1, timeout=60)


def test_import_tagger_never_imports_ray():
    code = ("import sys, tagger, tagger.tokenizers, tagger.cli; tagger.cli.build_parser(); "
            "from tagger.tokenizers.kkma import KkmaTokenizer; KkmaTokenizer().tokenize_many(['', ' '], cache=False); "
            "sys.exit('ray' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=SAMPLES_DIR.parent.parent).returncode == 0


@needs_kkma
def test_samples_identical_and_in_order(on_ray, pool, reference):
    texts, want = reference
    assert len(texts) > 50
    got = on_ray.tokenize_many(texts, cache=False, timeout=60)
    assert dump(got) == dump(want)
    assert pool.used == 2 and pool.chunks >= len(set(texts)) // 4
    for text, toks in zip(texts, got.tokens):       # order: each result belongs to its text
        assert all(t.text == text[t.start:t.end] for t in toks)


@needs_kkma
def test_hostile_lines_identical(on_ray, local):
    want = local.tokenize_many(HOSTILE, cache=False, timeout=60)
    got = on_ray.tokenize_many(HOSTILE, cache=False, timeout=60)
    assert dump(got) == dump(want)
    assert got.tokens[0] == [] and got.tokens[1] == []
    assert [i for i, _ in got.fallbacks] == [2, 6]            # the guarded jamo runs, reported
    assert [t.text for t in got.tokens[6]] == ["ㄷ" * 200]
    feats = CharKkmaTokenizer(on_ray).tokenize_many(HOSTILE[2:4], cache=False, timeout=60)
    assert dump(feats) == dump(CharKkmaTokenizer(local).tokenize_many(HOSTILE[2:4], cache=False, timeout=60))


@needs_kkma
def test_killed_actor_loses_nothing(on_ray, pool, reference):
    texts, want = reference
    starts, killed = pool.starts, []

    def kill_after_first_chunk(done, total):
        if done > 0 and not killed:
            killed.append(pool.actors[0])
            ray.kill(pool.actors[0], no_restart=True)

    got = on_ray.tokenize_many(texts, cache=False, timeout=60, progress=kill_after_first_chunk)
    assert killed and dump(got) == dump(want)
    assert pool.starts == starts + 1 and killed[0] not in pool.actors   # replaced, and retried


@needs_kkma
def test_cache_filled_and_a_second_run_sends_nothing(pool, reference, tmp_path, monkeypatch):
    monkeypatch.setenv("TAGGER_WORKSPACE", str(tmp_path))
    monkeypatch.setenv("TAGGER_RAY_ADDRESS", "auto")        # the app's way in: settings, no use_ray
    texts, want = reference
    tok = KkmaTokenizer()
    sent = pool.sent
    first = tok.tokenize_many(texts, timeout=60)
    assert tok.ray is pool and pool.sent > sent and first.analyzed == len(texts)
    assert dump(first) == dump(want)
    with TokenCache() as store:
        assert store.count("kkma") == len(set(texts))
    sent = pool.sent
    again = KkmaTokenizer().tokenize_many(texts, timeout=60)
    assert pool.sent == sent and again.analyzed == 0 and again.cache_hits == len(texts)
    assert dump(again) == dump(want)


# ---- the CLI -------------------------------------------------------------------
@pytest.fixture
def cli_env(local, tmp_path, monkeypatch):
    import tagger.tokenizers as toks
    monkeypatch.setenv("TAGGER_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("TAGGER_RAY_ADDRESS", raising=False)
    monkeypatch.setattr(toks, "_INSTANCES", {"kkma": local})   # reuse the warm local JVM
    text = tmp_path / "in.txt"
    text.write_text("김철수는 서울에 산다.\n\n좋아요😀 정말\n" + "ㅋ" * 50 + "\n", encoding="utf-8")
    return text


@needs_kkma
def test_cli_tokenize_local(cli_env, tmp_path, capsys):
    out = tmp_path / "local.jsonl"
    assert main(["tokenize", str(cli_env), "--tokenizer", "kkma", "--workers", "1", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == ["김철수는 서울에 산다.", "좋아요😀 정말", "ㅋ" * 50]
    assert set(rows[0]["tokens"][0]) == {"text", "start", "end", "form", "pos"}
    assert rows[0]["tokens"][0]["text"] == "김철수" and "fallback" in rows[2]
    assert "3 sentences with kkma: 0 from the cache, 3 analysed" in capsys.readouterr().out
    with TokenCache() as store:
        assert store.count("kkma") == 3
    assert main(["tokenize", str(cli_env), "--out", str(out)]) == 0
    assert "3 from the cache, 0 analysed" in capsys.readouterr().out


@needs_kkma
def test_cli_tokenize_on_ray_writes_the_same_file(cli_env, pool, local, tmp_path, capsys):
    mine, theirs = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    assert main(["tokenize", str(cli_env), "--tokenizer", "char+kkma", "--out", str(mine), "--no-cache",
                 "--workers", "1"]) == 0
    sent = pool.sent
    assert main(["tokenize", str(cli_env), "--tokenizer", "char+kkma", "--ray", "auto",
                 "--out", str(theirs)]) == 0
    assert "on Ray (auto)" in capsys.readouterr().out and pool.sent == sent + 2
    assert theirs.read_bytes() == mine.read_bytes()
    assert local._ray_address is None                       # the CLI put the tokenizer back


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    assert main(["tokenize", str(tmp_path / "missing.txt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "no such file" in err[0]
    assert main(["tokenize", str(tmp_path), "--ray", "auto"]) == 2
    assert main(["tokenize", str(tmp_path / "x.txt"), "--ray-actors", "2"]) == 2
    assert "--ray-actors needs --ray" in capsys.readouterr().err


# ---- faults, with a fake worker on actors of their own ------------------------
FAKE = """
import json, os, signal, sys, time
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    text = req["text"]
    if text.startswith("KILL"):
        os.kill(os.getppid(), signal.SIGKILL)      # the actor this worker serves
        time.sleep(30)
    if text.startswith("SLEEP"):
        time.sleep(30)
    if text.startswith("BOOM"):
        print(json.dumps({"id": req["id"], "ok": False, "error": "NullPointerException: x"}), flush=True)
        continue
    rows = [[i, i + len(w), w.lower(), "NNG"] for i, w in ((text.index(w), w) for w in text.split())]
    print(json.dumps({"id": req["id"], "ok": True, "t": rows}), flush=True)
"""


@pytest.fixture
def fake(tmp_path, pool):
    pool.close()                       # free the 2 CPUs for the fake actors
    script = tmp_path / "fake.py"
    script.write_text(textwrap.dedent(FAKE))
    return [sys.executable, str(script)]


def test_time_bound_and_errors_as_local(fake):
    texts = ["Aa bb", "BOOM x", "SLEEP y", "d " + "ㄷ" * 9 + " e", "cc"] * 2
    want = KkmaTokenizer(pool=WorkerPool(fake)).tokenize_many(texts, cache=False, workers=2, timeout=1.0)
    rp = RayPool("auto", chunk=2, command=fake)
    got = KkmaTokenizer(pool=rp).tokenize_many(texts, cache=False, workers=2, timeout=1.0)
    rp.close()
    assert dump(got) == dump(want)
    assert "timed out after 1s" in dict(got.fallbacks)[2] and "NullPointerException" in dict(got.fallbacks)[1]


def test_chunk_failing_twice_is_reported_not_lost(fake):
    rp = RayPool("auto", chunk=1, command=fake)
    res = KkmaTokenizer(pool=rp).tokenize_many(["a b", "KILL x", "c d"], cache=False, workers=2)
    rp.close()
    assert [[t.text for t in toks] for toks in res.tokens] == [["a", "b"], ["KILL", "x"], ["c", "d"]]
    assert [i for i, _ in res.fallbacks] == [1] and "Kkma actor failed 2 times" in res.fallbacks[0][1]
    assert rp.starts == 2 + 2          # two actors, each death replaced
