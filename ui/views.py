"""Views the Evaluate, Demo and Language models pages share for the
language-model and classifier kinds: the classifier report, labels with
probabilities, and next-token suggestions with sampled continuations. UI
only: the numbers come from ``tagger.ws_classify`` and ``tagger.ws_lm``; user
text reaches HTML only through ``tagger.render`` (escaped)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import pickers, shell
from ui.tables import history_charts
from tagger import TaggerError
from tagger.workspace import classify as ws_classify, lm as ws_lm, models as ws_models
from ui.render import completion_html, label_html, suggestions_html

MAX_SENTENCES = 50


def classifier_report(ws, mid: str, picker=st) -> None:
    """Evaluate page: accuracy, macro F1, per-class table, confusion matrix, curves."""
    rows = ws_classify.labelled_datasets(ws)
    with picker:
        did = pickers.pick_dataset(ws, "Evaluation data (text-label)", key="cls_eval", rows=rows)
    if did is None:
        st.info("No text-label dataset (TEXT<TAB>LABEL) in the workspace: add one on the Data page.")
        return
    try:
        with st.spinner("Classifying and scoring…"):
            ev = ws_classify.evaluation(ws, mid, did)
    except TaggerError as err:
        shell.fail(err)
        return
    c = st.columns(3)
    c[0].metric("accuracy", f"{ev['accuracy']:.4f}")
    c[1].metric("macro F1", f"{ev['macro_f1']:.4f}")
    c[2].metric("sentences", ev["sentences"])
    st.caption(f"sentence classifier · tokenizer {ev['tokenizer']}")
    if ev["unknown"]:
        st.warning(f"Labels the model never saw (always counted wrong): {', '.join(ev['unknown'])}")
    st.subheader("Per class")
    fmt = lambda v: f"{v:.4f}"  # noqa: E731
    st.table(pd.DataFrame([{"label": r["label"], "precision": fmt(r["precision"]), "recall": fmt(r["recall"]),
                            "F1": fmt(r["F1"]), "support": str(r["support"])} for r in ev["rows"]]).set_index("label"))
    st.subheader("Confusion matrix")
    conf = ev["confusion"]
    st.dataframe(pd.DataFrame(conf["matrix"], index=pd.Index(conf["labels"], name="gold ↓ / predicted →"),
                              columns=conf["labels"]), width="stretch")
    st.subheader("Learning curves")
    hist = ws_models.model_json(ws, mid).get("history") or []
    history_charts(hist, metric="dev_accuracy", label="dev accuracy")


def classify_view(ws, mid: str, sentences: list[str]) -> None:
    """Demo page: each sentence with its label and the probability of every label."""
    if len(sentences) > MAX_SENTENCES:
        st.warning(f"Only the first {MAX_SENTENCES} of {len(sentences)} sentences are classified.")
    with st.spinner("Classifying…"):
        results = ws_classify.classify(ws, mid, sentences[:MAX_SENTENCES])
    for r in results:
        st.html(label_html(r["text"], r["label"], r["probs"][r["label"]]))
        st.dataframe(pd.DataFrame([{"label": k, "probability": v} for k, v in r["probs"].items()]),
                     hide_index=True, column_config={"probability": st.column_config.ProgressColumn(
                         "probability", min_value=0.0, max_value=1.0, format="%.3f")})


def completion_options(key: str) -> tuple[int, int, float]:
    c = st.columns(3)
    top_k = c[0].number_input("Suggestions (top k)", 1, 50, 5, key=f"{key}_topk")
    samples = c[1].number_input("Sampled continuations", 0, 20, 3, key=f"{key}_samples")
    temperature = c[2].slider("Temperature", 0.1, 3.0, 1.0, 0.1, key=f"{key}_temp",
                              help="Below 1: safer, repetitive continuations; above 1: more varied ones.")
    return int(top_k), int(samples), float(temperature)


def completion_view(ws, mid: str, prefix: str, key: str) -> None:
    """Next-token suggestions for ``prefix`` with probabilities, and sampled continuations."""
    top_k, samples, temperature = completion_options(key)
    try:
        with st.spinner("Completing…"):
            r = ws_lm.complete(ws, mid, prefix, top_k=top_k, samples=samples, temperature=temperature,
                               seed=int(st.session_state.get(f"{key}_seed", 1)))
    except TaggerError as err:
        shell.fail(err)
        return
    st.caption(f"prefix tokens ({r['tokenizer']}): " + (" · ".join(map(ws_lm.show_token, r["tokens"])) or "(none)"))
    left, right = st.columns([2, 3])
    with left:
        st.markdown("**Next token**")
        st.html(suggestions_html(r["rows"]))
        st.dataframe(pd.DataFrame(r["rows"]), hide_index=True, width="stretch", column_config={
            "probability": st.column_config.ProgressColumn("probability", min_value=0.0, max_value=1.0,
                                                           format="%.4f")})
    with right:
        st.markdown(f"**Sampled continuations** (temperature {temperature:g})")
        for cont in r["continuations"]:
            st.html(completion_html(prefix, cont))
        if samples and st.button("Sample again", key=f"{key}_again"):
            st.session_state[f"{key}_seed"] = int(st.session_state.get(f"{key}_seed", 1)) + 1
            st.rerun()
