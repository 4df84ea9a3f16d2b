"""The live view of a background run: status, progress, metrics, curves, the
cancel and resume buttons and the log; it refreshes itself while the run is
active."""
from __future__ import annotations

import streamlit as st

from tagger import TaggerError
from tagger.runs import control as runs
from tagger.runs.tasks import DEV_METRIC, task_of
from ui.shell import fail, readonly
from ui.tables import history_charts

STATUS_ICON = {"queued": ":material/hourglass_empty:", "running": ":material/directions_run:",
               "done": ":material/check_circle:", "failed": ":material/error:", "cancelled": ":material/cancel:",
               "interrupted": ":material/warning:"}
DONE_HINT = {"lm": "compare it on the Language models page or complete text on the Demo page.",
             "classifier": "evaluate it or classify text on the Demo page."}


def run_panel(ws, rid: str) -> None:
    """Live view of a run: refreshes itself every second while it is active."""
    try:
        active = runs.run(ws, rid)["status"] in runs.ACTIVE
    except TaggerError as err:
        fail(err)
        return
    st.fragment(run_every=1.0 if active else None)(_run_body)(ws, rid, active)


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


def _speed(record: dict) -> tuple:
    if "tokens_per_s" in record:
        return record["tokens_per_s"], "tokens/s"
    return record.get("sentences_per_s"), "sentences/s"


def _metrics(r: dict, hist: list[dict], metric: str, label: str, higher: bool) -> None:
    p = r.get("progress") or {}
    scores = [h[metric] for h in hist if h.get(metric) is not None]
    best = (max if higher else min)(scores) if scores else None
    speed, unit = _speed(hist[-1]) if hist else (None, "tokens/s")
    c = st.columns(5)
    c[0].metric("epoch", f"{p.get('epoch', 0)}/{p.get('epochs', '?')}")
    c[1].metric("loss", f"{hist[-1]['loss']:.4f}" if hist else "–")
    c[2].metric(f"best {label}", f"{best:.4f}" if best is not None else "–")
    c[3].metric(unit, f"{speed:,.0f}" if speed is not None else "–")
    c[4].metric("ETA", _eta(p.get("eta_s")) if r["status"] in runs.ACTIVE else "–")


def _run_body(ws, rid: str, was_active: bool) -> None:
    r = runs.run(ws, rid)
    frac, text = _progress_text(r)
    st.markdown(f"**{STATUS_ICON.get(r['status'], '')} {r['status']}** · run `{r['id']}`")
    st.progress(min(max(frac, 0.0), 1.0), text=text)
    hist = runs.history(ws, rid)
    task = task_of(r["config"])
    metric, label, higher = DEV_METRIC[task]
    _metrics(r, hist, metric, label, higher)
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
        st.success(f"Model {r['model_id']} registered: " + DONE_HINT.get(
            task_of(r["config"]), "evaluate it, review its predictions or try it on the Demo page."))
