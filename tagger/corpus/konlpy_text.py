"""KoNLPy's own Korean text (``konlpy.corpus``: the constitution in ``kolaw``
and ten bills in ``kobill``), split into sentences: the bundled default text
for language models and silver POS corpora. ``konlpy`` is imported on call,
never with ``tagger`` (reading its corpora starts no JVM)."""
from __future__ import annotations

import re

from tagger.core import TaggerError

NAME = "konlpy"  # what ``--text`` takes to mean these corpora
_END = re.compile(r"(?<=[.?!])\s+")


def konlpy_sentences() -> list[str]:
    """Every non-blank line of kolaw and kobill (files in name order), cut
    after sentence-final ``.?!`` followed by a space."""
    try:
        from konlpy.corpus import kobill, kolaw
    except ImportError as err:
        raise TaggerError(f"KoNLPy's corpora need the konlpy package ({err})") from None
    out = []
    for corpus in (kolaw, kobill):
        for fid in sorted(corpus.fileids()):
            for line in corpus.open(fid).read().split("\n"):
                out += [s.strip() for s in _END.split(line) if s.strip()]
    return out
