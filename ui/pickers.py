"""Selectboxes over the workspace's catalogue (datasets, models) whose choice
is shared by every page, and how datasets and models are named in them."""
from __future__ import annotations

import streamlit as st

from tagger.workspace import models as ws_models

NONE = "-"
KIND_TAG = {"tagger": "tagger", "lm": "LM", "classifier": "classifier"}


def pick(label: str, rows: list[dict], key: str, fmt, none: str | None = None, help=None,
         prefer_none: bool = True):
    """A selectbox over catalogue rows by id. ``st.session_state[key]`` is the
    choice shared by all pages: set it elsewhere (an upload, a new run) and the
    box follows; pick in the box (in a form too) and it follows the box."""
    ids = ([NONE] if none else []) + [r["id"] for r in rows]
    by_id = {r["id"]: r for r in rows}
    ss, wkey, skey = st.session_state, f"_{key}", f"_{key}_synced"
    raw = ss.get(key, "(unset)")
    logical, widget = (NONE if none else None) if raw is None else raw, ss.get(wkey)
    if raw != ss.get(skey) and logical in ids:
        value = logical
    elif widget in ids:
        value = widget
    else:
        first = None if not ids else ids[0] if prefer_none or len(ids) < 2 else ids[1]
        value = logical if logical in ids else first
    ss[wkey] = value
    choice = st.selectbox(label, ids, key=wkey, help=help,
                          format_func=lambda i: none if i == NONE else fmt(by_id[i]))
    choice = None if choice == NONE else choice
    ss[key] = ss[skey] = choice
    return choice


def dataset_label(d: dict) -> str:
    st_ = d.get("stats") or {}
    return f"{d['name']} · {d['format']} · {st_.get('sentences', '?')} sentences · {d['id']}"


def model_score(m: dict) -> str:
    """The model's held-out score in words (dev F1, perplexity or accuracy), or ''."""
    s = m.get("summary") or {}
    for key, text in (("dev_f1", "dev F1 {:.3f}"), ("dev_perplexity", "dev perplexity {:.1f}"),
                      ("dev_accuracy", "dev accuracy {:.3f}")):
        if s.get(key) is not None:
            return text.format(s[key])
    return ""


def model_label(m: dict) -> str:
    kind = m.get("kind", "tagger")
    tag = KIND_TAG[kind] if kind != "tagger" and not m["name"].lower().startswith(KIND_TAG[kind].lower()) else ""
    parts = ([tag] if tag else []) + [m["name"]]
    parts += [m["tokenizer"]] if m["tokenizer"] and m["tokenizer"] not in m["name"] else []
    parts += [model_score(m)] if model_score(m) else []
    return " · ".join(parts + [m["id"]])


def pick_dataset(ws, label="Dataset", key="dataset", none=None, rows=None):
    return pick(label, ws.datasets() if rows is None else rows, key, dataset_label, none)


def pick_model(ws, label="Model", key="model", none=None, prefer_none=True, kinds=("tagger",)):
    """Models of ``kinds`` only (taggers unless told: Review, pre-annotation …); ``kinds=None``: all."""
    return pick(label, ws_models.models(ws, kinds=kinds), key, model_label, none, prefer_none=prefer_none)
