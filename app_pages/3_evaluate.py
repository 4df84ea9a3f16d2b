"""Evaluate: a tagger on a dataset (seqeval report, confusion matrix with missed
and spurious entities, error kinds), learning curves, runs side by side; or a
sentence classifier (accuracy, macro F1, per-class table, confusion matrix).
Language models are compared on the Language models page."""
import pandas as pd
import streamlit as st

from tagger import TaggerError
from tagger.workspace import evaluation as ws_eval, models as ws_models
from ui import pickers, shell, views
from ui.tables import curves_chart, history_charts, report_table

KINDS = ("tagger", "classifier")
ws = shell.page("Evaluate")
if not ws_models.models(ws, kinds=KINDS) or not ws.datasets():
    st.info("Evaluation needs a tagger or classifier and a labelled dataset: train one on the Train page "
            "(language models are compared on the Language models page).")
    shell.link("app_pages/2_train.py", "Go to Train", ":material/model_training:")
    st.stop()

a, b = st.columns(2)
with a:
    mid = pickers.pick_model(ws, kinds=KINDS)
if ws_models.model_row(ws, mid)["kind"] == "classifier":
    views.classifier_report(ws, mid, picker=b)
    st.stop()
with b:
    labelled = [d for d in ws.datasets() if d["format"] in ("klue", "conll", "sentence-tags")]
    did = pickers.pick_dataset(ws, "Evaluation data", key="dataset", rows=labelled)
corrected = st.checkbox("Score against the corrected labels (Review page corrections)", False)
if did is None:
    st.info("No labelled dataset (klue, conll or sentence-tags) in the workspace.")
    st.stop()


def headline(ev: dict) -> None:
    if "plain" in ev:  # per-unit labels such as POS: each unit is its own labelled span
        p = ev["plain"]
        c = st.columns(3)
        c[0].metric("token accuracy", f"{p['accuracy']:.4f}")
        c[1].metric("macro F1 over tags", f"{p['macro_f1']:.4f}")
        c[2].metric("units scored", f"{p['tokens']:,}")
        st.caption("Per-unit labels (plain scheme): every unit is one labelled span, so the table below "
                   "is per-tag precision/recall/F1.")
    c = st.columns(5)
    c[0].metric("entity F1 (micro)", f"{ev['entity_f1']:.4f}")
    c[1].metric("precision", f"{ev['precision']:.4f}")
    c[2].metric("recall", f"{ev['recall']:.4f}")
    c[3].metric("macro F1", f"{ev['macro_f1']:.4f}")
    c[4].metric("char-level macro F1", f"{ev['char_macro_f1']:.4f}")
    st.caption(f"{ev['sentences']} sentences scored on {ev['granularity']}s with seqeval · "
               f"model tokenizer {ev['tokenizer']}")


def errors_and_confusion(ev: dict) -> None:
    left, right = st.columns([2, 3])
    with left:
        st.subheader("Errors")
        errs = ev["errors"]
        st.dataframe(pd.DataFrame([{"kind": k, "entities": errs.get(k, 0)} for k in
                                   ("correct", "boundary", "type", "missed", "spurious")]), hide_index=True)
        st.caption("boundary: overlaps a gold entity but not exactly · type: same span, other type · "
                   "missed: no prediction overlaps · spurious: overlaps no gold entity")
    with right:
        st.subheader("Entity-type confusion")
        conf = ev["confusion"]
        df = pd.DataFrame([[conf["matrix"][r][c] for c in conf["cols"]] for r in conf["rows"]],
                          index=pd.Index(conf["rows"], name="gold ↓ / predicted →"), columns=conf["cols"])
        st.dataframe(df, width="stretch")


def curves(mid: str) -> None:
    st.subheader("Learning curves")
    try:
        hist = ws_models.model_json(ws, mid).get("history") or []
    except TaggerError as err:
        shell.fail(err)
        return
    history_charts(hist)


def compare(did: str, corrected: bool) -> None:
    st.subheader("Runs side by side")
    ms = {m["id"]: m for m in ws_models.models(ws, kinds=("tagger",))}
    chosen = st.multiselect("Models", list(ms), default=list(ms)[:2], format_func=lambda i: pickers.model_label(ms[i]))
    rows, curves_, problems = ws_eval.compare(ws, did, chosen, corrected)
    for p in problems:
        st.error(p)
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    curves_chart(curves_, "dev F1 per epoch")


try:
    with st.spinner("Predicting and scoring…"):
        ev = ws_eval.evaluation(ws, mid, did, corrected)
except TaggerError as err:
    shell.fail(err)
    st.stop()
headline(ev)
st.subheader("Report")
report_table(ws_eval.report_rows(ev))
errors_and_confusion(ev)
curves(mid)
compare(did, corrected)
