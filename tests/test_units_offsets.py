"""The span editor's Python side, property-tested: units cover the text exactly
as the corpus defines them, and a selection of units (what the browser sends
back: first and last unit index) becomes the code-point span of exactly what
the user saw, for Hangul, NFD jamo, emoji, combining marks, tabs and runs of
spaces. No UTF-16 positions anywhere."""
import unicodedata

from hypothesis import given, settings, strategies as st

from tagger.core.units import char_units, span_from_units, unit_tokens, units_of_span, word_units
from tagger.core.units import units as units_of
from ui.span_editor import build_view, to_action

SYLLABLE = st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)
PIECES = st.one_of(
    SYLLABLE,
    SYLLABLE.map(lambda c: unicodedata.normalize("NFD", c)),              # 2-3 conjoining jamo
    st.sampled_from(["😀", "👍🏽", "🇰🇷", "👨\u200d👩\u200d👧", "𝔸", "✈\ufe0f"]),  # astral, ZWJ, VS16
    st.sampled_from(["e\u0301", "\u0301", "a\u0308\u0323", "\u20dd"]),    # combining marks
    st.sampled_from([" ", "  ", "   ", "\t", " \t ", "\u3000", "\xa0"]),   # tabs, runs of spaces
    st.sampled_from(list("abcXYZ019.,!?<>&\"'") + ["<img src=x onerror=alert(1)>"]),
)
TEXTS = st.lists(PIECES, max_size=25).map("".join)
GRANULARITY = st.sampled_from(["char", "word"])
LABELS = ["PS", "LC", "OG"]


def seen(view, first, last):
    """What the browser showed from unit ``first`` to unit ``last``: the units' texts and the gaps between."""
    return "".join(view["units"][k] + (view["gaps"][k + 1] if k < last else "") for k in range(first, last + 1))


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_units_cover_the_text_as_the_corpus_defines_them(text):
    assert units_of(text, "char") == char_units(text) == [(i, i + 1) for i in range(len(text))]
    assert units_of(text, "word") == word_units(text)
    assert units_of(text, "word") == [(t.start, t.end) for t in unit_tokens(text, "word")]
    pos = 0
    for a, b in units_of(text, "word"):
        assert pos <= a < b and text[pos:a].strip() == "" and not any(c.isspace() for c in text[a:b])
        pos = b
    assert text[pos:].strip() == ""


@settings(max_examples=300, deadline=None)
@given(TEXTS, GRANULARITY)
def test_the_view_reproduces_the_text(text, gran):
    units = units_of(text, gran)
    view = build_view(text, units, [], labels=LABELS, granularity=gran)
    assert len(view["gaps"]) == len(units) + 1
    assert view["gaps"][0] + "".join(u + g for u, g in zip(view["units"], view["gaps"][1:])) == text
    if gran == "char":
        assert all(g == "" for g in view["gaps"]) and all(len(u) == 1 for u in view["units"])


@settings(max_examples=500, deadline=None)
@given(st.data(), TEXTS, GRANULARITY)
def test_a_unit_selection_stores_exactly_what_the_user_saw(data, text, gran):
    units = units_of(text, gran)
    if not units:
        return
    first = data.draw(st.integers(0, len(units) - 1))
    last = data.draw(st.integers(first, len(units) - 1))
    view = build_view(text, units, [], labels=LABELS, granularity=gran)
    start, end = span_from_units(units, first, last)
    assert span_from_units(units, last, first) == (start, end)       # a drag from right to left
    assert 0 <= start < end <= len(text)
    assert text[start:end] == seen(view, first, last)
    label = data.draw(st.sampled_from(LABELS))
    action = to_action({"action": "label", "seq": 1, "first": first, "last": last, "label": label},
                       units, 0, LABELS)
    assert action == {"action": "label", "seq": 1, "start": start, "end": end, "label": label}
    assert units_of_span(units, start, end) == (first, last)


@settings(max_examples=200, deadline=None)
@given(st.data(), TEXTS, GRANULARITY)
def test_spans_go_to_the_browser_as_the_units_they_cover(data, text, gran):
    units = units_of(text, gran)
    if not units:
        return
    a = data.draw(st.integers(0, len(units) - 1))
    b = data.draw(st.integers(a, len(units) - 1))
    start, end = span_from_units(units, a, b)
    view = build_view(text, units, [(start, end, "PS")], model_spans=[(start, end, "LC")], labels=LABELS,
                      granularity=gran)
    assert view["spans"] == [{"index": 0, "first": a, "last": b, "label": "PS"}]
    assert view["model"] == [{"index": 0, "first": a, "last": b, "label": "LC", "differs": True}]


def test_malformed_or_out_of_range_actions_are_dropped():
    units = units_of("김철수는 서울에", "char")
    ok = {"action": "label", "seq": 3, "first": 5, "last": 6, "label": "LC"}
    assert to_action(ok, units, 0, LABELS)["start"] == 5
    for bad in ({**ok, "last": 99}, {**ok, "first": -1}, {**ok, "label": "XX"}, {**ok, "first": "x"},
                {**ok, "action": "rm -rf"}, {"action": "remove", "seq": 4, "index": 2}, None, "label"):
        assert to_action(bad, units, 2, LABELS) is None
    assert to_action({"action": "retype", "seq": 5, "index": 1, "label": "OG"}, units, 2, LABELS) == \
        {"action": "retype", "seq": 5, "index": 1, "label": "OG"}
    assert to_action({"action": "accept", "seq": 6}, units, 0, LABELS) == {"action": "accept", "seq": 6}
