"""The in-browser span editor: a Streamlit components-v2 element (inline HTML,
CSS and JS from ``ui/span_editor/``, no build step) that shows a sentence with
its entity spans and, where given, the model's, and lets an annotator select
units with the mouse or the keyboard and label, retype, remove, accept, skip,
navigate and undo.

Python owns the offsets. The browser gets the units by index with their texts
(and the text between them) and sends back unit indices only; the one
conversion to code-point offsets is :func:`tagger.core.units.span_from_units`.

Protocol. Every action the browser commits is one state value ``action``::

    {"seq": n, "doc": "<view id>", "action": "label", "first": i, "last": j, "label": "PS"}

``seq`` grows per browser editor (and restarts above the last acknowledged
one after a reload); ``doc`` names the view the user acted on. Python applies
an action once: it remembers the last ``seq`` it consumed per key, drops
actions on a view that is no longer shown, and acknowledges the ``seq`` in the
next render's data (``ack``). Until then the browser shows "saving…" and
queues further keys, which it replays on the new view.

Two ways to use it (see :func:`span_editor`): pass ``on_action`` (called
before the script reruns, so the same run renders the result: one run per
action), or apply the returned action yourself and call ``st.rerun()``.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable, Optional, Sequence

import streamlit as st

from tagger.core.units import span_from_units, units_of_span

_ASSETS = Path(__file__).with_name("span_editor")
ACTIONS = ("label", "retype", "remove", "take_model", "accept", "next", "prev", "skip", "undo")

_component = st.components.v2.component(
    "tagger_span_editor",
    html=(_ASSETS / "editor.html").read_text(encoding="utf-8"),
    css=(_ASSETS / "editor.css").read_text(encoding="utf-8"),
    js=(_ASSETS / "editor.js").read_text(encoding="utf-8"),
)


def _k(key: str, what: str) -> str:
    return f"_span_editor::{key}::{what}"


def _span_tuple(span) -> tuple[int, int, str]:
    """(start, end, label) from a tuple/list, a ``Span``-like object or a dict."""
    if isinstance(span, dict):
        return int(span["start"]), int(span["end"]), str(span["label"])
    if hasattr(span, "start"):
        return int(span.start), int(span.end), str(span.label)
    start, end, label = span
    return int(start), int(end), str(label)


def _unit_spans(units, spans) -> list[dict]:
    """Spans as unit ranges; ``index`` is the span's position in the caller's list."""
    out = []
    for i, span in enumerate(spans):
        start, end, label = _span_tuple(span)
        hit = units_of_span(units, start, end)
        if hit is not None:
            out.append({"index": i, "first": hit[0], "last": hit[1], "label": label})
    return sorted(out, key=lambda s: (s["first"], s["last"]))


def build_view(text: str, units: Sequence[tuple[int, int]], spans, model_spans=None, *,
               labels: Sequence[str], granularity: str = "char", caption: str = "") -> dict:
    """What the browser gets (without ``ack``): unit texts, the text around and
    between them, spans as unit ranges, and an id of the whole view."""
    units = [(int(a), int(b)) for a, b in units]
    ends = [0] + [b for _, b in units]
    starts = [a for a, _ in units] + [len(text)]
    view = {
        "units": [text[a:b] for a, b in units],
        "gaps": [text[e:s] for e, s in zip(ends, starts)],
        "spans": _unit_spans(units, spans),
        "model": None,
        "labels": [str(x) for x in labels],
        "granularity": "char" if granularity == "char" else "word",
        "caption": str(caption or ""),
        "text_id": hashlib.sha1(json.dumps([text, units]).encode()).hexdigest()[:16],
    }
    if model_spans is not None:
        model_spans = list(model_spans)
        current = {_span_tuple(s) for s in spans}
        view["model"] = _unit_spans(units, model_spans)
        for m in view["model"]:
            m["differs"] = _span_tuple(model_spans[m["index"]]) not in current
    view["doc"] = hashlib.sha1(json.dumps(view, sort_keys=True).encode()).hexdigest()[:16]
    return view


def to_action(payload, units, n_spans: int, labels: Sequence[str]) -> Optional[dict]:
    """The browser's payload as a Python action (code-point offsets), or None
    when it is malformed or out of range."""
    if not isinstance(payload, dict) or payload.get("action") not in ACTIONS:
        return None
    name, seq = payload["action"], payload.get("seq")
    out = {"action": name, "seq": seq}
    try:
        if name == "label":
            out["start"], out["end"] = span_from_units(units, payload["first"], payload["last"])
        if name in ("retype", "remove"):
            out["index"] = int(payload["index"])
            if not 0 <= out["index"] < n_spans:
                return None
        if name in ("label", "retype"):
            if payload.get("label") not in labels:
                return None
            out["label"] = payload["label"]
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return out


def _consume(key: str) -> Optional[dict]:
    """The new action in the editor's state, once: None when there is none,
    when it was consumed already, or when it was made on a view no longer shown."""
    state = st.session_state.get(key)
    payload = state.get("action") if isinstance(state, dict) else None
    if not isinstance(payload, dict) or not isinstance(payload.get("seq"), int):
        return None
    if payload["seq"] <= st.session_state.get(_k(key, "seq"), 0):
        return None
    st.session_state[_k(key, "seq")] = payload["seq"]
    shown = st.session_state.get(_k(key, "shown"))
    if not shown or payload.get("doc") != shown["doc"]:
        return None
    return to_action(payload, shown["units"], shown["n_spans"], shown["labels"])


def _dispatch(key: str, on_action: Callable[[dict], None]) -> None:
    """The state-change callback: runs before the script, so ``on_action`` can
    update the store and this very run renders the result."""
    action = _consume(key)
    if action is not None:
        st.session_state[_k(key, "fresh")] = action
        on_action(dict(action))


def span_editor(text: str, units: Sequence[tuple[int, int]], spans, *, model_spans=None,
                labels: Sequence[str], key: str, granularity: str = "char",
                on_action: Optional[Callable[[dict], None]] = None, caption: str = "",
                autofocus: bool = True) -> Optional[dict]:
    """Show the editor; return the user's new action (once), else None.

    ``units``: (start, end) code-point offsets of the corpus's units
    (:func:`tagger.core.units.units`); ``spans``/``model_spans``:
    (start, end, label) tuples, ``Span`` objects or dicts. Actions::

        {"action": "label", "start": s, "end": e, "label": "PS", "seq": n}
        {"action": "retype", "index": i, "label": "LC", "seq": n}   # i: position in spans
        {"action": "remove", "index": i, "seq": n}
        {"action": "take_model" | "accept" | "next" | "prev" | "skip" | "undo", "seq": n}

    With ``on_action`` the action is handed to it before the script reruns (so
    the spans passed in this run already include it) and also returned here
    for information. Without it, apply the returned action and ``st.rerun()``:
    the browser waits for the rerun's view before it takes further keys.
    """
    units = [(int(a), int(b)) for a, b in units]
    spans = list(spans)
    acked = st.session_state.get(_k(key, "seq"), 0)  # callbacks consume before the run
    action = st.session_state.pop(_k(key, "fresh"), None)
    if action is None:
        action = _consume(key)  # not acknowledged in this run: the caller reruns first
    view = build_view(text, units, spans, model_spans, labels=labels, granularity=granularity,
                      caption=caption)
    st.session_state[_k(key, "shown")] = {"doc": view["doc"], "units": units, "n_spans": len(spans),
                                          "labels": view["labels"]}
    _component(key=key, data={**view, "ack": acked, "autofocus": bool(autofocus)},
               on_action_change=(lambda: _dispatch(key, on_action)) if on_action else (lambda: None))
    return action
