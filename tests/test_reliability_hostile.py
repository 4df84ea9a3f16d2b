"""Bad input: hostile text through every tokenizer and the Demo page.

Each text completes within a stated bound (generous: the CI machine is
shared) with tokens that tile the text (surface == text[start:end], in order,
inside the text, every non-space character covered) or a clear message."""
import time
import unicodedata
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tagger.runs import control as runs
from tagger.workspace import models as ws_models
from tagger.core.units import split_sentences
from tagger.runs.worker import execute
from tagger.tokenizers import get_tokenizer
from tagger.workspace.store import Workspace
from test_kkma import _MISSING

ROOT = Path(__file__).resolve().parent.parent
LONG = ("김철수는 어제 서울 시청에서 기자회견을 열었다. " * 800)[:20_000]
HOSTILE = {
    "jamo run": "그는 " + "ㄷ" * 3000 + " 웃었다",
    "syllable run": "하" * 2000,
    "mixed jamo": "ㄱㅏㄴㅏ" * 500,
    "20,000-char line": LONG,
    "NUL and controls": "김\x00철\x01수\x1b[31m는\x7f 서울\u200b에\x0b\x0c 갔다\u2028다",
    "emoji and combining": "👩‍👩‍👧 가\u0301 e\u0301\u0308 🇰🇷 서울😀에 ZWJ\u200d끝",
    "NFD Hangul": unicodedata.normalize("NFD", "김철수는 서울에 갔다"),
    "mixed scripts": "iPhone15를 東京에서 Москва 3.5kg العربية ไทย 서울",
    "whitespace only": " \t\u3000\u00a0  ",
    "empty": "",
    "lone surrogate": "서울\ud800에",
}
BOUND_S = {"char": 2.0, "eojeol": 2.0, "kkma": 120.0, "char+kkma": 120.0}  # per text
needs_kkma = [pytest.mark.kkma, pytest.mark.skipif(bool(_MISSING), reason=f"Kkma needs {', '.join(_MISSING)}")]


def check_tiles(text: str, toks) -> None:
    prev_end = 0
    covered = set()
    for t in toks:
        assert 0 <= t.start < t.end <= len(text) and t.text == text[t.start:t.end], t
        assert t.start >= prev_end or t.end <= prev_end, ("tokens out of order", t)
        prev_end = max(prev_end, t.end)
        covered.update(range(t.start, t.end))
    assert all(c.isspace() or i in covered for i, c in enumerate(text)), "a character was dropped"


def _tokenize_all(name: str) -> dict:
    tok = get_tokenizer(name)
    tok.tokenize_many(["준비"], cache=False)            # start the worker outside the timing
    took = {}
    for what, text in HOSTILE.items():
        t0 = time.monotonic()
        res = tok.tokenize_many([text], cache=False)
        took[what] = time.monotonic() - t0
        check_tiles(text, res.tokens[0])
        assert took[what] < BOUND_S[name], f"{name} on {what}: {took[what]:.1f}s"
        assert all(isinstance(reason, str) and reason for _, reason in res.fallbacks)
    return took


@pytest.mark.parametrize("name", ["char", "eojeol"])
def test_hostile_text_is_tokenized_within_bounds_by_simple_tokenizers(name):
    _tokenize_all(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param("kkma", marks=needs_kkma), pytest.param("char+kkma", marks=needs_kkma)])
def test_hostile_text_is_tokenized_within_bounds_by_kkma(name):
    took = _tokenize_all(name)
    assert took["whitespace only"] < 1.0 and took["empty"] < 1.0
    short = [t for t in HOSTILE.values() if len(t) < 1000]
    tok = get_tokenizer(name)
    first, again = (tok.tokenize_many(short, cache=True) for _ in range(2))   # through the disk cache
    assert again.tokens == first.tokens and again.analyzed == 0


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    ws = Workspace(root)
    tr, _ = ws.add_sample("ner_klue.tsv")
    rid = runs.create_run(ws, {"train_id": tr["id"], "tokenizer": "char", "threads": 1,
                               "model": {"hidden_size": 8, "num_layers": 1, "embedding_dim": 8},
                               "train": {"epochs": 1, "batch_size": 8}})
    assert execute(ws, rid) == 0
    return root, runs.run(ws, rid)["model_id"]


def test_hostile_text_is_tagged_within_bounds_on_the_demo_path(demo_ws):
    root, mid = demo_ws
    model = ws_models.load(Workspace(root), mid)
    for what, text in HOSTILE.items():
        t0 = time.monotonic()
        sentences = split_sentences(text)
        results = model.predict(sentences)
        assert time.monotonic() - t0 < 10.0, what
        for s, r in zip(sentences, results):
            assert r["text"] == s and all(s[e["start"]:e["end"]] == e["text"] for e in r["entities"])


@pytest.mark.slow
def test_hostile_text_on_the_demo_page_shows_a_result_or_message(demo_ws, monkeypatch):
    root, mid = demo_ws
    monkeypatch.setenv("TAGGER_WORKSPACE", str(root))
    for what, text in HOSTILE.items():
        if what == "lone surrogate":  # neither a URL nor Streamlit's protobuf can carry one to the page
            continue
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.switch_page("app_pages/5_demo.py")
        at.query_params["model"] = mid
        at.query_params["text"] = text
        t0 = time.monotonic()
        at.run()
        assert time.monotonic() - t0 < 30.0, what
        assert not at.exception, (what, [e.value for e in at.exception])
        shown = at.html or [c for c in at.caption if "Type or paste" in c.value]
        assert shown, f"{what}: neither a result nor a message"
