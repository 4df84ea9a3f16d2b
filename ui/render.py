"""HTML for the app, built from user text that is always escaped: entity
highlighting with ``<mark>`` spans, sentence splitting and share links."""
from __future__ import annotations

import hashlib
from html import escape
from urllib.parse import urlencode

PALETTE = ("#ffd6a5", "#caffbf", "#9bf6ff", "#bdb2ff", "#ffc6ff", "#fdffb6", "#a0c4ff", "#ffadad")
KNOWN = {"PS": 0, "LC": 1, "OG": 2, "DT": 3, "TI": 4, "QT": 5}
MAX_SHARE_TEXT = 1500


def color(label: str) -> str:
    if label in KNOWN:
        return PALETTE[KNOWN[label]]
    return PALETTE[int(hashlib.md5(label.encode("utf-8")).hexdigest(), 16) % len(PALETTE)]


def highlight_html(text: str, spans, title: str = "") -> str:
    """``text`` with every span as ``<mark>`` plus its label; all text escaped.
    ``spans`` are objects with start/end/label or dicts with those keys."""
    out, pos = [], 0
    items = sorted((_get(s, "start"), _get(s, "end"), str(_get(s, "label"))) for s in spans)
    for start, end, label in items:
        if start < pos or end <= start:
            continue
        out.append(escape(text[pos:start]))
        out.append(f'<mark class="ent" data-label="{escape(label)}" style="background:{color(label)};'
                   f'padding:0 .2em;border-radius:.25em">{escape(text[start:end])}'
                   f'<sup style="font-size:.65em;font-weight:600;margin-left:.15em">{escape(label)}</sup></mark>')
        pos = end
    out.append(escape(text[pos:]))
    head = f'<span style="color:#888;font-size:.8em;margin-right:.5em">{escape(title)}</span>' if title else ""
    return f'<div class="tagged" style="line-height:2;font-size:1.05em">{head}{"".join(out)}</div>'


def _get(span, key):
    return span[key] if isinstance(span, dict) else getattr(span, key)


def share_query(model_id: str, text: str) -> str:
    """``?model=…&text=…`` for the Demo page (ids only, never paths)."""
    return "?" + urlencode({"model": model_id, "text": text[:MAX_SHARE_TEXT]})


def completion_html(prefix: str, continuation: str) -> str:
    """A prefix and its generated continuation (marked), both escaped."""
    return (f'<div class="completion" style="line-height:1.8">{escape(prefix)}'
            f'<mark class="gen" style="background:#caffbf;padding:0 .15em">{escape(continuation)}</mark></div>')


def label_html(text: str, label: str, prob: float) -> str:
    """A sentence with its predicted label and probability, all escaped."""
    return (f'<div class="classified" style="line-height:2"><mark class="label" data-label="{escape(label)}" '
            f'style="background:{color(label)};padding:0 .3em;border-radius:.25em;margin-right:.5em">'
            f'{escape(label)} <small>{prob:.2f}</small></mark>{escape(text)}</div>')


def suggestions_html(rows) -> str:
    """Next-token suggestions (``next token``, ``probability``) as chips, escaped."""
    chips = "".join(f'<span class="sugg" style="display:inline-block;background:#eef;border-radius:.4em;'
                    f'padding:.1em .5em;margin:.15em">{escape(str(r["next token"]))} '
                    f'<small style="color:#666">{float(r["probability"]):.3f}</small></span>' for r in rows)
    return f'<div class="suggestions">{chips or "(no suggestion)"}</div>'
