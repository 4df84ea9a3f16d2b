"""Tokenizers without a JVM: char/eojeol, coverage, fallback, the Kkma
pieces plan, the cache, and the worker pool driven by a fake worker."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tagger.tokenizers import TOKENIZERS, entity_boundary_coverage, fallback_tokens, get_tokenizer
from tagger.settings import workspace_dir
from tagger.tokenizers.cache import TokenCache, text_key
from tagger.tokenizers.kkma import CHUNK, KkmaTokenizer, char_features, plan
from tagger.tokenizers.pool import WorkerPool
from tagger.core import Sentence, Span, TaggerError, Token

ROOT = Path(__file__).resolve().parent.parent


def test_registry():
    assert TOKENIZERS == ("char", "eojeol", "kkma", "char+kkma", "kiwi", "char+kiwi")
    assert get_tokenizer("char") is get_tokenizer("char")
    for name in TOKENIZERS:
        tok = get_tokenizer(name)
        assert tok.name == name and isinstance(tok.version, str) and tok.version
    with pytest.raises(TaggerError, match=r"unknown tokenizer 'x' \(choose from char, eojeol"):
        get_tokenizer("x")


def test_import_pulls_in_no_jvm():
    code = ("import sys, tagger, tagger.tokenizers as t; t.get_tokenizer('char+kkma').version; t.get_tokenizer('char+kiwi').version; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('konlpy', 'jpype', 'streamlit', 'kiwipiepy')]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_char_tokens_keep_spaces():
    toks = get_tokenizer("char").tokenize("가 b")
    assert [(t.text, t.start, t.end) for t in toks] == [("가", 0, 1), (" ", 1, 2), ("b", 2, 3)]


def test_eojeol_offsets():
    text = "  유시진 대위(송중기)와\t의사\u00a0팀장 "
    toks = get_tokenizer("eojeol").tokenize(text)
    assert [t.text for t in toks] == ["유시진", "대위(송중기)와", "의사", "팀장"]
    assert all(text[t.start:t.end] == t.text for t in toks)
    res = get_tokenizer("eojeol").tokenize_many([text, ""], progress=lambda d, n: None)
    assert res.tokens[1] == [] and res.analyzed == 2


def test_entity_boundary_coverage():
    sents = [Sentence("유시진 대위와", [Span(0, 3, "PS"), Span(4, 6, "PS")]),
             Sentence("없음", [])]
    toks = [[Token("유시진", 0, 3), Token("대위와", 4, 7)], []]
    assert entity_boundary_coverage(sents, toks) == {"entities": 2, "covered": 1, "coverage": 0.5}
    assert entity_boundary_coverage([], [])["coverage"] == 1.0


def test_fallback_splits_at_script_changes():
    toks = fallback_tokens("iPhone15를 3.5kg!", offset=10)
    assert [(t.text, t.start, t.pos) for t in toks] == [
        ("iPhone", 10, "UN"), ("15", 16, "UN"), ("를", 18, "UN"), ("3", 20, "UN"),
        (".", 21, "UN"), ("5", 22, "UN"), ("kg", 23, "UN"), ("!", 25, "UN")]


def test_plan_guards_runs_and_chunks_long_lines():
    text = "그는 " + "ㄷ" * 20 + "했다 10000000원"
    pieces, notes = plan(text)
    assert [p[0] for p in pieces] == ["kkma", "run", "kkma"]
    assert pieces[1] == ("run", 3, "ㄷ" * 20) and "20 x 'ㄷ'" in notes[0]
    assert pieces[2][2] == "했다 10000000원"      # digit runs are not guarded
    pieces, notes = plan("ㄱㅏㄴㅏㄷㅏㄹㅏ 하하하하하하 ㅋㅋ")   # mixed jamo: Kkma is slow on them too
    assert pieces == [("run", 0, "ㄱㅏㄴㅏㄷㅏㄹㅏ"), ("kkma", 9, "하하하하하하 ㅋㅋ")]
    long = " ".join(["가나다라마바사아"] * 2500)  # 22,499 chars
    pieces, _ = plan(long)
    assert all(len(p) <= CHUNK and long[o:o + len(p)] == p for _, o, p in pieces)
    assert "".join(p for *_, p in pieces).replace(" ", "") == long.replace(" ", "")
    pieces, _ = plan("가" + "나다" * 400)       # one 801-char word: cut hard
    assert [len(p) for *_, p in pieces] == [300, 300, 201]


def test_workspace_and_cache_roundtrip(tmp_path, monkeypatch):
    monkeypatch.setenv("TAGGER_WORKSPACE", str(tmp_path))
    assert workspace_dir() == tmp_path
    monkeypatch.delenv("TAGGER_WORKSPACE")
    assert workspace_dir() == ROOT / "data" / "workspace"
    with TokenCache(tmp_path / "c.sqlite") as c:
        c.put_many("kkma", "v", [(text_key(f"s{i}"), f"[[0,1,\"{i}\",\"X\"]]", None)
                                 for i in range(1200)])
        got = c.get_many("kkma", "v", [text_key(f"s{i}") for i in range(1300)])
        assert len(got) == 1200 and not c.get_many("kkma", "other", [text_key("s1")])


FAKE = """
import json, os, re, sys, time
MODE = {mode!r}
if MODE == "nostart":
    print(json.dumps({{"ready": False, "error": "no java here"}}), flush=True)
    sys.exit(1)
print(json.dumps({{"ready": True}}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    text = req["text"]
    if "SLEEP" in text:
        time.sleep(30)
    if "DIE" in text:
        os._exit(3)
    if re.search(r"(.)\\1{{6,}}", text):
        os._exit(4)            # a guarded run must never reach Kkma
    if "WAIT" in text:
        time.sleep(0.05)
    if "BOOM" in text:
        print(json.dumps({{"id": req["id"], "ok": False, "error": "NullPointerException"}}),
              flush=True)
        continue
    rows = [[m.start(), m.end(), m.group().lower(), "NNG"] for m in re.finditer(r"\\S+", text)]
    print(json.dumps({{"id": req["id"], "ok": True, "t": rows}}), flush=True)
"""


def fake_kkma(tmp_path, mode="ok"):
    script = tmp_path / f"fake_{mode}.py"
    script.write_text(textwrap.dedent(FAKE.format(mode=mode)))
    return KkmaTokenizer(pool=WorkerPool(command=[sys.executable, str(script)]))


def test_pool_fallbacks_order_and_cache(tmp_path):
    tok = fake_kkma(tmp_path)
    texts = ["Aa bb", "  ", "BOOM x", "WAIT c", "d " + "ㄷ" * 9 + " e", "Aa bb", "SLEEP"]
    seen = []
    res = tok.tokenize_many(texts, workers=2, timeout=1.0, progress=lambda d, n: seen.append(d))
    assert seen == sorted(seen) and seen[-1] == len(texts)
    assert [t.form for t in res.tokens[0]] == ["aa", "bb"] and res.tokens[5] == res.tokens[0]
    assert res.tokens[1] == []
    assert [t.text for t in res.tokens[4]] == ["d", "ㄷ" * 9, "e"]
    assert [t.pos for t in res.tokens[2]] == ["UN", "UN"]           # fallback tokens
    reasons = dict(res.fallbacks)
    assert sorted(reasons) == [2, 4, 6]
    assert "NullPointerException" in reasons[2] and "timed out" in reasons[6]
    assert tok.pool.starts == 3         # two workers + one replacing the timed-out one
    again = fake_kkma(tmp_path)         # fresh pool: the cache must answer (all but the time-out)
    res2 = again.tokenize_many(texts[:6], workers=2)
    assert again.pool.starts == 0 and res2.analyzed == 0 and res2.cache_hits == 5  # + 1 blank
    assert res2.tokens == res.tokens[:6]
    assert dict(res2.fallbacks).keys() == {2, 4}      # cached notes still reported
    retry = again.tokenize_many(["SLEEP"], timeout=0.5)      # time-outs are not cached
    assert retry.analyzed == 1 and retry.cache_hits == 0 and retry.fallbacks
    tok.close()
    again.close()


def test_pool_worker_death_and_restart(tmp_path):
    tok = fake_kkma(tmp_path)
    res = tok.tokenize_many(["a b", "DIE now", "c d"], cache=False)
    assert [t.text for t in res.tokens[2]] == ["c", "d"]
    assert res.fallbacks[0][0] == 1 and "died" in res.fallbacks[0][1]
    tok.close()


def test_workers_two_equals_one(tmp_path):
    texts = [f"WAIT {i} 문장" if i % 3 == 0 else f"문장 {i} x" for i in range(24)]
    one = fake_kkma(tmp_path).tokenize_many(texts, cache=False, workers=1)
    two = fake_kkma(tmp_path).tokenize_many(texts, cache=False, workers=2)
    assert one.tokens == two.tokens and len(one.tokens) == 24


def test_worker_that_cannot_start_is_a_clear_error(tmp_path):
    tok = fake_kkma(tmp_path, "nostart")
    with pytest.raises(TaggerError, match="could not start: no java here"):
        tok.tokenize_many(["가나"], cache=False)
    assert tok.tokenize_many([" ", ""], cache=False).tokens == [[], []]   # no worker needed


def test_char_features_mark_shared_syllables():
    morphs = [Token("샀", 0, 1, "사", "VV"), Token("샀", 0, 1, "었", "EPT"),
              Token("어요", 1, 3, "어요", "EFN"), Token("그랬", 4, 6, "그리하", "VV"),
              Token("랬", 5, 6, "였", "EPT")]
    feats = [t.feats for t in char_features("샀어요 그랬x", morphs)]
    assert feats == [("사", "VV", "S"), ("어요", "EFN", "B"), ("어요", "EFN", "E"),
                     ("<sp>", "<sp>", "O"), ("그리하", "VV", "B"), ("그리하", "VV", "E"),
                     ("<none>", "<none>", "O")]
