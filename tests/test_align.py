"""Jamo alignment of normalised morphemes to text spans (pure, no JVM).

The morpheme lists are what Kkma returns for these texts."""
import time

import pytest

from tagger.tokenizers.align import align_analysis, align_morphemes, char_jamo


def check_valid(text, rows):
    """The alignment contract: non-empty spans inside one word, monotone
    starts and ends, every non-space char covered."""
    covered = set()
    prev = (0, 0)
    for form, pos, s, e in rows:
        assert 0 <= s < e <= len(text), (form, s, e)
        assert not any(c.isspace() for c in text[s:e]), (form, text[s:e])
        assert s >= prev[0] and e >= prev[1], ("not monotone", form, (s, e), prev)
        prev = (s, e)
        covered.update(range(s, e))
    missing = [c for i, c in enumerate(text) if not c.isspace() and i not in covered]
    assert not missing, missing


def surfaces(text, rows):
    return [(form, text[s:e]) for form, _, s, e in rows]


CASES = [
    ("했다", [("하", "VV"), ("었", "EPT"), ("다", "EFN")],
     [("하", "했"), ("었", "했"), ("다", "다")]),
    ("엿볼 수", [("엿보", "VV"), ("ㄹ", "ETD"), ("수", "NNB")],
     [("엿보", "엿볼"), ("ㄹ", "볼"), ("수", "수")]),
    ("갔다", [("가", "VV"), ("었", "EPT"), ("다", "EFN")],
     [("가", "갔"), ("었", "갔"), ("다", "다")]),
    ("해서", [("하", "VV"), ("어서", "ECD")], [("하", "해"), ("어서", "서")]),
    ("돼요", [("되", "VV"), ("어요", "EFN")], [("되", "돼"), ("어요", "요")]),
    ("샀어요", [("사", "VV"), ("었", "EPT"), ("어요", "EFN")],
     [("사", "샀"), ("었", "샀"), ("어요", "어요")]),
    ("iPhone 15 Pro를 샀다",
     [("iPhone", "OL"), ("15", "NR"), ("Pro", "OL"), ("를", "JKO"), ("사", "VV"),
      ("었", "EPT"), ("다", "EFN")],
     [("iPhone", "iPhone"), ("15", "15"), ("Pro", "Pro"), ("를", "를"), ("사", "샀"),
      ("었", "샀"), ("다", "다")]),
    ("3.5kg", [("3.5", "NR"), ("kg", "OL")], [("3.5", "3.5"), ("kg", "kg")]),
    ("1980년에", [("1980", "NR"), ("년", "NNM"), ("에", "JKM")],
     [("1980", "1980"), ("년", "년"), ("에", "에")]),
    ("그랬었다고 한다",
     [("그리하", "VV"), ("였", "EPT"), ("었", "EPT"), ("다고", "EFN"), ("하", "VV"),
      ("ㄴ다", "EFN")],
     [("그리하", "그랬"), ("였", "랬"), ("었", "었"), ("다고", "다고"), ("하", "한"),
      ("ㄴ다", "한다")]),
    # 와 = 오 + 아: both on 와, never on the next word's 의
    ("대위(송중기)와 의사",
     [("대위", "NNG"), ("(", "SS"), ("송", "NNG"), ("중기", "NNG"), (")", "SS"),
      ("오", "VV"), ("아", "ECS"), ("의사", "NNG")],
     [("대위", "대위"), ("(", "("), ("송", "송"), ("중기", "중기"), (")", ")"),
      ("오", "와"), ("아", "와"), ("의사", "의사")]),
    # an inserted copula sits on the char before it
    ("친구다 그리고", [("친구", "NNG"), ("이", "VCP"), ("다", "EFN"), ("그리고", "MAG")],
     [("친구", "친구"), ("이", "구"), ("다", "다"), ("그리고", "그리고")]),
    # full-width letters and an ideographic space returned as morphemes
    ("ＡＢ\u3000테스트１",
     [("Ａ", "SW"), ("Ｂ", "SW"), ("\u3000", "SW"), ("테스트", "NNG"), ("１", "SW")],
     [("Ａ", "Ａ"), ("Ｂ", "Ｂ"), ("테스트", "테스트"), ("１", "１")]),
    ("“인용” 《책》!",
     [("“", "SS"), ("인용", "NNG"), ("”", "SS"), ("《", "SS"), ("책", "NNG"), ("》", "SS"),
      ("!", "SF")],
     [("“", "“"), ("인용", "인용"), ("”", "”"), ("《", "《"), ("책", "책"), ("》", "》"),
      ("!", "!")]),
]


@pytest.mark.parametrize("text,morphs,expected", CASES, ids=[c[0] for c in CASES])
def test_alignment_cases(text, morphs, expected):
    rows = align_analysis(text, morphs)
    check_valid(text, rows)
    assert surfaces(text, rows) == expected


def test_every_morpheme_in_its_own_word():
    text = "대위와 의사 팀장의"
    morphs = [("대위", "NNG"), ("오", "VV"), ("아", "ECS"), ("의사", "NNG"), ("팀장", "NNG"),
              ("의", "JKG")]
    rows = align_analysis(text, morphs)
    check_valid(text, rows)
    words = [(0, 3), (4, 6), (7, 10)]
    where = [next(k for k, (a, b) in enumerate(words) if a <= s and e <= b) for *_, s, e in rows]
    assert where == [0, 0, 0, 1, 2, 2]


def test_dropped_characters_are_covered_by_a_neighbour():
    # Kkma "forgot" the 요 at the end: the neighbour in the same word takes it
    rows = align_analysis("좋아요 정말", [("좋", "VA"), ("아", "ECD"), ("정말", "MAG")])
    check_valid("좋아요 정말", rows)
    assert surfaces("좋아요 정말", rows)[1] == ("아", "아요")


def test_word_without_morpheme_becomes_a_filler():
    rows = align_analysis("가 ★★ 나", [("가", "NNG"), ("나", "NP")])
    check_valid("가 ★★ 나", rows)
    assert [(f, p) for f, p, *_ in rows] == [("가", "NNG"), ("★★", "UN"), ("나", "NP")]


def test_whitespace_morphemes_are_dropped():
    rows = align_analysis("a\u00a0b", [("a", "OL"), ("\u00a0", "SW"), ("b", "OL")])
    assert [(s, e) for *_, s, e in rows] == [(0, 1), (2, 3)]


def test_blank_text_and_no_morphemes():
    assert align_morphemes("   ", ["가"]) == [None]
    assert align_analysis("   ", []) == []
    rows = align_analysis("가나 다", [])
    assert [(f, p) for f, p, *_ in rows] == [("가나", "UN"), ("다", "UN")]


def test_jamo_decomposition():
    assert [c for c, _ in char_jamo("했")] == [ord("ㅎ"), ord("ㅐ"), ord("ㅆ")]
    assert [c for c, _ in char_jamo("아")] == [ord("ㅏ")]   # silent ㅇ dropped
    assert [c for c, _ in char_jamo("강")] == [ord("ㄱ"), ord("ㅏ"), ord("ㅇ")]
    assert char_jamo("Ａ") == char_jamo("a")


def test_alignment_is_fast():
    # our own sentence, shaped like a long Kkma analysis (a contracted 와, an irregular 들어볼)
    text = "김민준 교수(서울대)와 연구원 박서연 팀장(한빛연구소)의 발표라도 들어볼 수 있을까'하는 마음에"
    morphs = [("김민", "NNG"), ("준", "NNG"), ("교수", "NNG"), ("(", "SS"), ("서울", "NNG"),
              ("대", "NNG"), (")", "SS"), ("오", "VV"), ("아", "ECS"), ("연구원", "NNG"),
              ("박", "NNG"), ("서연", "NNG"), ("팀장", "NNG"), ("(", "SS"), ("한빛", "NNG"),
              ("연구소", "NNG"), (")", "SS"), ("의", "JKG"), ("발표", "NNG"), ("이", "VCP"),
              ("라도", "ECD"), ("듣", "VV"), ("어", "ECS"), ("보", "VXV"), ("ㄹ", "ETD"), ("수", "NNB"),
              ("있", "VV"), ("을까", "EFQ"), ("'", "SS"), ("하", "VV"), ("는", "ETD"), ("마음", "NNG"),
              ("에", "JKM")]
    check_valid(text, align_analysis(text, morphs))
    t0 = time.process_time()                  # CPU time: other jobs on a shared machine don't count
    for _ in range(50):
        align_analysis(text, morphs)
    per = (time.process_time() - t0) / 50
    assert per < 0.003, f"{per * 1000:.2f} ms per sentence"
