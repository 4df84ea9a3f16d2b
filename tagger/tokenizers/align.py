"""Align analyser morphemes to character spans of the text they came from.

Kkma normalises what it returns (``했다`` -> 하/VV 었/EPT 다/EFN, ``엿볼`` ->
엿보/VV ㄹ/ETD) and gives no offsets.  Both sides are turned into jamo streams
(Hangul syllables decomposed, compatibility jamo as themselves, any other
character as its NFKC/lower-cased self) and aligned with a weighted edit
distance.  A morpheme's span runs from the first to the last text character its
jamo were matched or substituted to, inside the one whitespace-separated word
that holds most of them.  Contracted syllables therefore give overlapping spans
(하 and 었 both -> 했).  A morpheme none of whose jamo found a partner sits on
the last non-space character before the place it was dropped.  Characters no
morpheme reached are given to a neighbour in the same word.

Guarantees of :func:`align_morphemes`: every span is non-empty and inside one
word; starts and ends are both non-decreasing; every non-space character of a
word that has at least one morpheme is covered.

The DP runs one numpy row per morpheme jamo; the horizontal (insertion) term is
a cumulative minimum, so a 60-character sentence costs about a millisecond.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np

ALIGN_VERSION = "a1"

# costs (integers): match 0
_SUB_SAME = 2    # consonant<->consonant or vowel<->vowel (했 = 하+었: ㅏ~ㅐ)
_SUB_OTHER = 3   # any other substitution (still cheaper than delete+insert)
_DEL = 2         # a morpheme jamo with no partner in the text
_INS = 2         # a text jamo no morpheme claims
_INS_SPACE = 0   # whitespace in the text is free to skip...
_BIG = 1 << 20   # ...and can never be matched by a morpheme jamo

_CONS, _VOWEL, _OTHER, _SPACE = 0, 1, 2, 3
_CHO = [0x3131, 0x3132, 0x3134, 0x3137, 0x3138, 0x3139, 0x3141, 0x3142, 0x3143, 0x3145,
        0x3146, 0x3147, 0x3148, 0x3149, 0x314A, 0x314B, 0x314C, 0x314D, 0x314E]
_JONG = [0, 0x3131, 0x3132, 0x3133, 0x3134, 0x3135, 0x3136, 0x3137, 0x3139, 0x313A,
         0x313B, 0x313C, 0x313D, 0x313E, 0x313F, 0x3140, 0x3141, 0x3142, 0x3144, 0x3145,
         0x3146, 0x3147, 0x3148, 0x314A, 0x314B, 0x314C, 0x314D, 0x314E]


@lru_cache(maxsize=16384)
def char_jamo(ch: str) -> tuple:
    """The (code, class) pairs one character contributes to a jamo stream."""
    o = ord(ch)
    if 0xAC00 <= o <= 0xD7A3:
        s = o - 0xAC00
        out = [(0x314F + (s % 588) // 28, _VOWEL)]
        if s // 588 != 11:   # a silent initial ㅇ carries nothing to align
            out.insert(0, (_CHO[s // 588], _CONS))
        if s % 28:
            out.append((_JONG[s % 28], _CONS))
        return tuple(out)
    if 0x3131 <= o <= 0x314E:
        return ((o, _CONS),)
    if 0x314F <= o <= 0x3163:
        return ((o, _VOWEL),)
    if ch.isspace():
        return ((32, _SPACE),)
    norm = unicodedata.normalize("NFKC", ch)
    norm = norm.lower() if len(norm) == 1 else ch.lower()
    return ((ord(norm[0]) if len(norm) == 1 else o, _OTHER),)


def _stream(text: str):
    codes, classes, owner = [], [], []
    for idx, ch in enumerate(text):
        for code, cls in char_jamo(ch):
            codes.append(code)
            classes.append(cls)
            owner.append(idx)
    return codes, classes, owner


def _cost_rows(mc, mk, tc, tk):
    """S2[i, j] = substitution cost of morph jamo i for text jamo j, minus the
    insertion cost of text jamo j (the DP runs on D minus cumulative inserts)."""
    mc, mk = np.asarray(mc, np.int32)[:, None], np.asarray(mk, np.int8)[:, None]
    tc, tk = np.asarray(tc, np.int32)[None, :], np.asarray(tk, np.int8)[None, :]
    same = (mk == tk) & (mk <= _VOWEL)
    sub = np.where(mc == tc, 0, np.where(same, _SUB_SAME, _SUB_OTHER)).astype(np.int32)
    space = tk == _SPACE
    sub = np.where(space, _BIG, sub)
    ins = np.where(space, _INS_SPACE, _INS).astype(np.int32)
    return sub - ins


def _dp_path(mc, mk, tc, tk):
    """Edit-distance traceback: list of (op, morph_jamo, text_column).  op 0 =
    match/substitute (text jamo column-1), 1 = morph jamo dropped at column."""
    m, n = len(mc), len(tc)
    s2 = _cost_rows(mc, mk, tc, tk)
    f = np.empty((m + 1, n + 1), np.int32)
    f[0] = 0
    tmp = np.empty(n, np.int32)
    for i in range(1, m + 1):
        row, prev = f[i], f[i - 1]
        np.add(prev[:-1], s2[i - 1], out=tmp)
        np.add(prev, _DEL, out=row)
        np.minimum(row[1:], tmp, out=row[1:])
        np.minimum.accumulate(row, out=row)
    path, i, j = [], m, n
    item, s2item = f.item, s2.item
    while i > 0:
        here = item(i, j)
        if here == item(i - 1, j) + _DEL:
            i -= 1
            path.append((1, i, j))
        elif j > 0 and here == item(i - 1, j - 1) + s2item(i - 1, j - 1):
            i, j = i - 1, j - 1
            path.append((0, i, j + 1))
        else:
            j -= 1
    path.reverse()
    return path


def _words(text: str) -> list[int]:
    """Word number of every character (-1 for whitespace)."""
    out, word, inside = [], -1, False
    for ch in text:
        if ch.isspace():
            out.append(-1)
            inside = False
        else:
            if not inside:
                word += 1
                inside = True
            out.append(word)
    return out


def _raw_spans(text, morphs, word_of):
    mc, mk, mown, tc, tk, town = [], [], [], [], [], []
    for k, form in enumerate(morphs):
        for code, cls in (p for ch in form for p in char_jamo(ch)):
            if cls != _SPACE:
                mc.append(code)
                mk.append(cls)
                mown.append(k)
    tc, tk, town = _stream(text)
    hits = [dict() for _ in morphs]      # morph -> {char: jamo count}
    dropped_at = [None] * len(morphs)    # morph -> text column of its last drop
    if mc and tc:
        for op, mi, col in _dp_path(mc, mk, tc, tk):
            k = mown[mi]
            if op == 0:
                c = town[col - 1]
                hits[k][c] = hits[k].get(c, 0) + 1
            else:
                dropped_at[k] = col
    spans = []
    for k in range(len(morphs)):
        if hits[k]:
            spans.append(_clip_to_word(hits[k], word_of))
        else:
            col = dropped_at[k]
            if col is None:   # a form with no jamo at all: after its neighbour
                last = spans[-1][1] - 1 if spans and spans[-1] else -1
            else:
                last = town[col - 1] if col > 0 else -1
            spans.append(_place_dropped(last, word_of))
    return spans


def _clip_to_word(hits: dict, word_of) -> tuple:
    per_word: dict = {}
    for c, n in hits.items():
        per_word[word_of[c]] = per_word.get(word_of[c], 0) + n
    best = max(sorted(per_word), key=lambda w: per_word[w])
    chars = [c for c in hits if word_of[c] == best]
    return min(chars), max(chars) + 1


def _place_dropped(last: int, word_of) -> tuple:
    """A morpheme with no partner: on the last non-space char at or before
    ``last`` (the char of the last text jamo consumed before the drop), else on
    the first non-space char after it."""
    for c in range(last, -1, -1):
        if word_of[c] >= 0:
            return c, c + 1
    for c in range(last + 1, len(word_of)):
        if word_of[c] >= 0:
            return c, c + 1
    return None


def _cover(spans: list, word_of) -> None:
    """Give every uncovered non-space char of a word that has morphemes to a
    neighbour in that word (the last one ending before it, else the first one
    starting after it).  Keeps starts and ends monotone."""
    covered = [False] * len(word_of)
    for s, e in spans:
        for c in range(s, e):
            covered[c] = True
    for c, w in enumerate(word_of):
        if w < 0 or covered[c]:
            continue
        left = [k for k, (s, e) in enumerate(spans) if e <= c and word_of[s] == w]
        if left:
            k = left[-1]
            spans[k] = (spans[k][0], c + 1)
            for x in range(spans[k][0], c + 1):
                covered[x] = True
            continue
        right = [k for k, (s, e) in enumerate(spans) if s > c and word_of[s] == w]
        if right:
            k = right[0]
            spans[k] = (c, spans[k][1])
            for x in range(c, spans[k][1]):
                covered[x] = True


def align_morphemes(text: str, morphs: list[str]) -> list:
    """Character span ``(start, end)`` of every morpheme form in ``morphs``
    (in order) within ``text``; ``None`` only when the text has no non-space
    character at all."""
    word_of = _words(text)
    spans = _raw_spans(text, morphs, word_of)
    if any(s is None for s in spans):
        return spans
    _cover(spans, word_of)
    return spans


def align_analysis(text: str, morphs) -> list[tuple]:
    """``[(form, pos, start, end), ...]`` for an analysis ``[(form, pos), ...]``
    of ``text``: whitespace-only morphemes are dropped, the rest aligned, and a
    word no morpheme reached becomes one token with POS ``UN``."""
    kept = [(f, p) for f, p in morphs if f and not f.isspace()]
    spans = align_morphemes(text, [f for f, _ in kept])
    out = [(f, p, sp[0], sp[1]) for (f, p), sp in zip(kept, spans) if sp is not None]
    word_of = _words(text)
    reached = {word_of[s] for _, _, s, _ in out}
    fillers = []
    for w0, s, e in _word_spans(text):
        if w0 not in reached:
            fillers.append((text[s:e], "UN", s, e))
    if fillers:
        out = sorted(out + fillers, key=lambda t: (t[2], t[3]))
    return out


def _word_spans(text: str):
    w, start = 0, None
    for i, ch in enumerate(text + " "):
        if ch.isspace():
            if start is not None:
                yield w, start, i
                w += 1
                start = None
        elif start is None:
            start = i
