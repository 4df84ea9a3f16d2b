"""Kkma through real worker processes (needs Java and KoNLPy; runs in CI).

One tokenizer (one warm JVM) is shared by the module; the tests that must
start workers of their own say so."""
import importlib.util
import os
import shutil
import time

import pytest

from tagger.tokenizers.kkma import CharKkmaTokenizer, KkmaTokenizer

_MISSING = [what for what, ok in [
    ("java", shutil.which("java") or os.environ.get("JAVA_HOME")),
    ("konlpy", importlib.util.find_spec("konlpy")),
    ("jpype", importlib.util.find_spec("jpype"))] if not ok]
pytestmark = [pytest.mark.kkma,
              pytest.mark.skipif(bool(_MISSING), reason=f"Kkma needs {', '.join(_MISSING)}")]

SENTENCES = [
    "했다 엿볼 수 있을까 갔다 해서 돼요 샀어요",
    "iPhone 15 Pro를 3.5kg에 1980년부터 팔았다.",
    "김민준 교수(서울대)와 연구원 박서연 팀장(한빛연구소)의 발표라도 엿볼 수 있을까'하는 마음에",
    "“인용”과 《책》, 그리고 ‘따옴’이 있었다!",
    "ＡＢＣ　테스트１２３ 좋아요😀 정말",
    "서울시는 2019년 3월 15일 오후 2시에 발표했다.",
    "그랬었다고 한다. 할 거예요.",
    "SK와이번스는 10여분 만에 5만원권을 모아왔다.",
]


def check_valid(text, toks):
    covered, prev = set(), (0, 0)
    for t in toks:
        assert t.text == text[t.start:t.end] and t.start < t.end
        assert not any(c.isspace() for c in t.text), t
        assert t.start >= prev[0] and t.end >= prev[1], ("not monotone", t, prev)
        prev = (t.start, t.end)
        covered.update(range(t.start, t.end))
    assert all(c.isspace() or i in covered for i, c in enumerate(text))


@pytest.fixture(scope="module")
def kkma():
    tok = KkmaTokenizer()
    yield tok
    tok.close()


def test_real_alignment(kkma):
    res = kkma.tokenize_many(SENTENCES, cache=False)
    assert res.fallbacks == [] and res.analyzed == len(SENTENCES)
    for text, toks in zip(SENTENCES, res.tokens):
        check_valid(text, toks)
    first = [(t.text, t.form) for t in res.tokens[0][:5]]
    assert first == [("했", "하"), ("했", "었"), ("다", "다"), ("엿볼", "엿보"), ("볼", "ㄹ")]
    assert [t.text for t in res.tokens[1][:4]] == ["iPhone", "15", "Pro", "를"]
    emoji = [t for t in res.tokens[4] if t.text == "😀"]
    assert emoji and emoji[0].form == "😀"


def test_blank_input_needs_no_kkma(kkma):
    before = kkma.pool.starts
    assert kkma.tokenize("   ") == [] and kkma.tokenize("") == []
    assert kkma.pool.starts == before


def test_repeated_jamo_is_guarded(kkma):
    kkma.tokenize("준비")                      # warm worker
    text = "그는 " + "ㄷ" * 20 + " 하고 웃었다"
    t0 = time.monotonic()
    res = kkma.tokenize_many([text], cache=False)
    assert time.monotonic() - t0 < 3.0
    check_valid(text, res.tokens[0])
    assert ("ㄷ" * 20, "UN") in [(t.text, t.pos) for t in res.tokens[0]]
    assert res.fallbacks and "20 x 'ㄷ'" in res.fallbacks[0][1]


def test_long_line_is_chunked(kkma):
    text = " ".join(["유시진 대위와 의사 강모연 팀장의 흔적이라도 엿볼 수 있을까."] * 60)
    res = kkma.tokenize_many([text], cache=False)
    assert res.fallbacks == []
    check_valid(text, res.tokens[0])
    assert sum(t.form == "엿보" for t in res.tokens[0]) == 60


def test_cache_hit_starts_no_worker(kkma):
    texts = SENTENCES[:5]
    cold = kkma.tokenize_many(texts, cache=True)
    assert cold.analyzed == 5 and cold.cache_hits == 0
    fresh = KkmaTokenizer()                  # a new process would look like this
    warm = fresh.tokenize_many(texts, cache=True)
    assert fresh.pool.starts == 0 and warm.analyzed == 0 and warm.cache_hits == 5
    assert warm.tokens == cold.tokens


def test_char_kkma_features(kkma):
    toks = CharKkmaTokenizer(kkma).tokenize("샀어요 iPhone")
    assert [t.text for t in toks] == list("샀어요 iPhone")
    assert toks[0].feats == ("사", "VV", "S")            # 샀 = 사 + 었: boundary inside
    assert toks[3].feats == ("<sp>", "<sp>", "O")
    assert [t.feats[2] for t in toks[4:]] == ["B", "I", "I", "I", "I", "E"]


def test_workers_two_equal_one(kkma):
    texts = [f"{a} {b}" for a in SENTENCES for b in SENTENCES[:4]]   # 32 sentences
    seen = []
    one = kkma.tokenize_many(texts, cache=False, workers=1)
    kkma.pool.warm(2)                        # both JVMs up, so both take sentences
    two = kkma.tokenize_many(texts, cache=False, workers=2, progress=lambda d, n: seen.append(d))
    assert kkma.pool.used == 2
    assert two.tokens == one.tokens and two.fallbacks == one.fallbacks == []
    assert seen == sorted(seen) and seen[-1] == len(texts)


def test_tiny_timeout_falls_back_and_recovers(kkma):
    # long enough (one ~290-character request) that Kkma needs far more than the
    # 1 ms bound even on a loaded machine: an answer that beats it is accepted
    text = " ".join(["유시진 대위와 의사 강모연 팀장의 흔적이라도 찾았다"] * 10)
    res = kkma.tokenize_many([text], cache=False, timeout=0.001)
    assert res.fallbacks and "timed out" in res.fallbacks[0][1]
    assert {t.pos for t in res.tokens[0]} == {"UN"}
    check_valid(text, res.tokens[0])
    again = kkma.tokenize_many([text], cache=False)      # a fresh worker answers
    assert again.fallbacks == [] and "NNG" in {t.pos for t in again.tokens[0]}
