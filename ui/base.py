"""Streamlit pieces the pages share: navigation, the read-only switch, pickers,
the live run panel and the report tables. UI only: every number comes from
``tagger`` (workspace, runs, review)."""
from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from tagger import TaggerError
from tagger.runs import control as runs
from tagger.workspace import models as ws_models
from tagger.runs.tasks import DEV_METRIC, task_of
from tagger.workspace.store import Workspace

STATUS_ICON = {"queued": ":material/hourglass_empty:", "running": ":material/directions_run:",
               "done": ":material/check_circle:", "failed": ":material/error:", "cancelled": ":material/cancel:",
               "interrupted": ":material/warning:"}
NONE = "-"


def readonly() -> bool:
    return os.environ.get("TAGGER_READONLY", "").strip().lower() in ("1", "true", "yes", "on")


def nav_pages(landing):
    """Landing + the six pages; only landing and Demo when read-only."""
    pages = [st.Page(landing, title="Home", icon=":material/home:", default=True)]
    if not readonly():
        pages += [st.Page("pages/1_Data.py", title="Data", icon=":material/description:", url_path="data"),
                  st.Page("pages/2_Train.py", title="Train", icon=":material/model_training:", url_path="train"),
                  st.Page("pages/3_Evaluate.py", title="Evaluate", icon=":material/analytics:", url_path="evaluate"),
                  st.Page("pages/4_Review.py", title="Review", icon=":material/edit_note:", url_path="review"),
                  st.Page("pages/6_Language_models.py", title="Language models", icon=":material/auto_stories:",
                          url_path="language-models")]
    pages.append(st.Page("pages/5_Demo.py", title="Demo", icon=":material/chat:", url_path="demo"))
    return pages


@st.cache_resource
def limit_threads() -> bool:
    """Predictions in the app use few CPU threads: the machine is shared with training runs."""
    import torch
    torch.set_num_threads(runs.default_threads())
    return True


def workspace() -> Workspace:
    limit_threads()
    try:
        ws = Workspace()
    except TaggerError as err:
        st.error(str(err))
        st.stop()
    return ws


def page(title: str, writable: bool = True) -> Workspace:
    """Page header; stops with a message when the page needs writing and the app is read-only."""
    st.title(title)
    if writable and readonly():
        st.warning("This is a read-only demo server (TAGGER_READONLY=1): only the Demo page is available.")
        st.stop()
    return workspace()


def fail(err: Exception) -> None:
    st.error(str(err) if isinstance(err, TaggerError) else f"{type(err).__name__}: {err}")


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


KIND_TAG = {"tagger": "tagger", "lm": "LM", "classifier": "classifier"}


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


def report_table(rows: list[dict]) -> None:
    """The seqeval report as a static table (readable in the page's HTML)."""
    fmt = lambda v: "" if v is None else f"{v:.4f}"  # noqa: E731
    df = pd.DataFrame([{"type": r["type"], "precision": fmt(r["precision"]), "recall": fmt(r["recall"]),
                        "F1": fmt(r["f1"]), "support": "" if r["support"] is None else str(r["support"])}
                       for r in rows]).set_index("type")
    st.table(df)


def history_charts(history: list[dict], key: str = "", metric: str = "dev_f1", label: str = "dev entity F1",
                   empty: str = "No finished epoch yet.") -> None:
    if not history:
        st.caption(empty)
        return
    df = pd.DataFrame(history).set_index("epoch")
    a, b = st.columns(2)
    a.caption("training loss")
    a.line_chart(df[["loss"]], height=220)
    b.caption(label)
    b.line_chart(df[[metric]], height=220)


def _eta(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _progress_text(r: dict) -> tuple[float, str]:
    p = r.get("progress") or {}
    if r["status"] == "done":
        return 1.0, f"done · {p.get('epoch', 0)} epochs"
    if p.get("phase") == "tokenizing":
        return float(p.get("fraction") or 0), f"tokenizing {p.get('done', 0)}/{p.get('total', 0)} sentences"
    if p.get("phase") == "training":
        step = f" · batch {p['step']}/{p['steps']}" if p.get("steps") else ""
        return float(p.get("fraction") or 0), f"epoch {p.get('epoch')}/{p.get('epochs')}{step}"
    return 0.0, r["status"]


def _run_body(ws, rid: str, was_active: bool) -> None:
    r = runs.run(ws, rid)
    frac, text = _progress_text(r)
    p = r.get("progress") or {}
    st.markdown(f"**{STATUS_ICON.get(r['status'], '')} {r['status']}** · run `{r['id']}`")
    st.progress(min(max(frac, 0.0), 1.0), text=text)
    hist = runs.history(ws, rid)
    task = task_of(r["config"])
    metric, label, higher = DEV_METRIC[task]
    scores = [h[metric] for h in hist if h.get(metric) is not None]
    best = (max if higher else min)(scores) if scores else None
    speed, unit = _speed(hist[-1]) if hist else (None, "tokens/s")
    c = st.columns(5)
    c[0].metric("epoch", f"{p.get('epoch', 0)}/{p.get('epochs', '?')}")
    c[1].metric("loss", f"{hist[-1]['loss']:.4f}" if hist else "–")
    c[2].metric(f"best {label}", f"{best:.4f}" if best is not None else "–")
    c[3].metric(unit, f"{speed:,.0f}" if speed is not None else "–")
    c[4].metric("ETA", _eta(p.get("eta_s")) if r["status"] in runs.ACTIVE else "–")
    st.caption(f"task: {task} · device: {r.get('device') or '…'} · {r['name']}")
    if r.get("error"):
        (st.warning if r["status"] == "interrupted" else st.error)(r["error"])
    no_epochs = task == "lm" and r["config"].get("lm_kind") == "ngram"
    history_charts(hist, key=rid, metric=metric, label=label,
                   empty="An n-gram model only counts: it has no epochs." if no_epochs else "No finished epoch yet.")
    _run_buttons(ws, r)
    with st.expander("log"):
        st.code("\n".join(runs.log_lines(ws, rid, 40)) or "(empty)", language=None)
    if was_active and r["status"] not in runs.ACTIVE:
        st.rerun()


def _speed(record: dict) -> tuple:
    if "tokens_per_s" in record:
        return record["tokens_per_s"], "tokens/s"
    return record.get("sentences_per_s"), "sentences/s"


def _run_buttons(ws, r: dict) -> None:
    if readonly():
        return
    if r["status"] in runs.ACTIVE and st.button("Cancel run", key=f"cancel-{r['id']}"):
        runs.cancel_run(ws, r["id"])
        st.rerun()
    if r["status"] in ("interrupted", "cancelled", "failed") and st.button("Resume run", key=f"resume-{r['id']}"):
        try:
            runs.resume_run(ws, r["id"])
        except TaggerError as err:
            fail(err)
        st.rerun()
    if r["status"] == "done" and r.get("model_id"):
        st.success(f"Model {r['model_id']} registered: " + {
            "lm": "compare it on the Language models page or complete text on the Demo page.",
            "classifier": "evaluate it or classify text on the Demo page."}.get(
            task_of(r["config"]), "evaluate it, review its predictions or try it on the Demo page."))


def run_panel(ws, rid: str) -> None:
    """Live view of a run: refreshes itself every second while it is active."""
    try:
        active = runs.run(ws, rid)["status"] in runs.ACTIVE
    except TaggerError as err:
        fail(err)
        return
    st.fragment(run_every=1.0 if active else None)(_run_body)(ws, rid, active)


def link(path: str, label: str, icon: str | None = None, where=st) -> None:
    """``st.page_link`` that degrades to a caption when the page is not in the
    navigation (a page run on its own, in tests)."""
    try:
        where.page_link(path, label=label, icon=icon)
    except Exception:  # noqa: BLE001 - StreamlitPageNotFoundError and friends
        where.caption(f"{label}: see the {path.split('_', 1)[-1].removesuffix('.py')} page")
