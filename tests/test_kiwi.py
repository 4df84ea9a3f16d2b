"""Kiwi (in-process, kiwipiepy's bundled model): tokens cover the text with
Kiwi's own offsets, char+kiwi carries its features, the cache, coverage and a
model trained on kiwi tokens."""
import importlib.util

import pytest

from tagger.tokenizers import entity_boundary_coverage, get_tokenizer
from tagger.tokenizers.kiwi import CharKiwiTokenizer, KiwiTokenizer, fill_gaps
from tagger.core import Sentence, Span, Token

from test_kkma import SENTENCES, check_valid

pytestmark = pytest.mark.skipif(importlib.util.find_spec("kiwipiepy") is None,
                                reason="needs kiwipiepy (requirements.txt)")


@pytest.fixture(scope="module")
def kiwi():
    tok = KiwiTokenizer()
    yield tok
    tok.close()


def test_tokens_cover_the_text_exactly(kiwi):
    texts = SENTENCES + ["  앞뒤 공백\t탭 ", "ㄷㄷㄷㄷㄷㄷㄷㄷㄷㄷㄷㄷㄷ 하하하하하하하하", "漢字 ﾊﾝ ｆｕｌｌ"]
    res = kiwi.tokenize_many(texts, cache=False)
    assert len(res.tokens) == len(texts) and res.analyzed == len(texts)
    for text, toks in zip(texts, res.tokens):
        check_valid(text, toks)
        assert all(t.form and t.pos for t in toks)
    first = res.tokens[0]
    assert ("하", "VV") in [(t.form, t.pos) for t in first if t.text == "했"]   # 했 = 하 + 었, overlapping
    assert [t.text for t in kiwi.tokenize("김철수는 서울에 산다.")][:2] == ["김철수", "는"]


def test_blank_and_duplicates_keep_order(kiwi):
    res = kiwi.tokenize_many(["가나", "", "  ", "가나", "서울"], cache=False)
    assert res.tokens[1] == [] and res.tokens[2] == []
    assert res.tokens[0] == res.tokens[3] and res.tokens[0] is not res.tokens[3]
    assert res.analyzed == 3


def test_cache_round_trip(kiwi):
    texts = ["서울시는 2019년 3월 15일 발표했다.", "삼성전자는 3일 신제품을 발표했다."]
    cold = kiwi.tokenize_many(texts)
    warm = KiwiTokenizer().tokenize_many(texts)          # a fresh analyser: answered by the cache
    assert (cold.cache_hits, cold.analyzed) == (0, 2) and (warm.cache_hits, warm.analyzed) == (2, 0)
    assert warm.tokens == cold.tokens


def test_fill_gaps_adds_fallback_tokens():
    text = "서울 abc 가"
    toks, filled = fill_gaps(text, [Token("서울", 0, 2, "서울", "NNP")])
    assert filled and [(t.text, t.start, t.end, t.pos) for t in toks] == [
        ("서울", 0, 2, "NNP"), ("abc", 3, 6, "UN"), ("가", 7, 8, "UN")]
    assert fill_gaps("가 나", [Token("가", 0, 1), Token("나", 2, 3)])[1] is False


def test_char_kiwi_features(kiwi):
    text = "김철수는 발표했다."
    toks = CharKiwiTokenizer(kiwi).tokenize_many([text], cache=False).tokens[0]
    assert [t.text for t in toks] == list(text)
    assert toks[0].feats == ("김철수", "NNP", "B") and toks[4].feats == ("<sp>", "<sp>", "O")
    assert toks[7].feats == ("하", "XSV", "S")          # 했 = 하 + 었: the first morpheme, whole
    assert get_tokenizer("char+kiwi").analyzer is get_tokenizer("kiwi")


def test_coverage_counts_kiwi_boundaries(kiwi):
    sents = [Sentence("김철수는 서울에 산다.", [Span(0, 3, "PS"), Span(5, 7, "LC")]),
             Sentence("삼성전자는", [Span(0, 2, "OG")])]      # 삼성 inside one morpheme: not covered
    cov = entity_boundary_coverage(sents, kiwi.tokenize_many([s.text for s in sents], cache=False).tokens)
    assert cov == {"entities": 3, "covered": 2, "coverage": 2 / 3}


def test_train_and_predict_with_kiwi(tmp_path):
    import tagger
    train = [Sentence("김철수는 서울에 산다.", [Span(0, 3, "PS"), Span(5, 7, "LC")]),
             Sentence("이영희는 부산에 갔다.", [Span(0, 3, "PS"), Span(5, 7, "LC")])]
    for name in ("kiwi", "char+kiwi"):
        model = tagger.train(train, train, tokenizer=name, epochs=2, hidden_size=16, embedding_dim=16)
        model.save(tmp_path / name)
        out = tagger.load_model(tmp_path / name).predict(["김철수는 부산에 갔다."])[0]
        assert out["tokens"] and all(out["text"][t["start"]:t["end"]] == t["text"] for t in out["tokens"])
