"""The Review page's form controls, beside the span editor: set a type,
remove an entity, add one over a range of tokens, take the model's entities,
undo (all saved through ``status.correct`` under the session's reviewer), and
the export of the corrected corpus, all sentences or only the reviewed ones."""
from __future__ import annotations

import streamlit as st

from tagger import TaggerError
from tagger.workspace import review, status
from tagger.workspace.annotate import LABELLED, export_corrected
from ui import shell
from ui.review_status import reviewer

FORM_MSG = "review_form_msg"
EXPORT_CHOICES = {"all sentences": None, "only accepted and corrected": ("accepted", "corrected")}


def _save(ctx: dict, row: dict, spans, message: str) -> None:
    v = status.correct(ctx["ws"], ctx["did"], row["index"], spans, reviewer())
    st.session_state[FORM_MSG] = f"{message} · saved as version {v}"
    st.rerun()


def label_choice(ctx: dict, key: str) -> str:
    opts = sorted(set(ctx["labels"]) | set(review.KLUE_TYPES)) + ["other…"]
    lab = st.selectbox("Type", opts, key=key)
    return st.text_input("New type", key=f"{key}_other") if lab == "other…" else lab


def edit_existing(ctx: dict, row: dict, spans: list) -> None:
    text = row["text"]
    if not spans:
        st.caption("No entity in this sentence yet.")
        return
    pick = st.selectbox("Entity", range(len(spans)),
                        key=f"edit_span_{ctx['did']}_{row['index']}_{hash(tuple(spans))}",
                        format_func=lambda i: f"{text[spans[i].start:spans[i].end]} · {spans[i].label} · "
                                              f"{spans[i].start}–{spans[i].end}")
    label = label_choice(ctx, "edit_label")
    c = st.columns(2)
    if c[0].button("Set type", width="stretch"):
        _save(ctx, row, review.set_label(spans, pick, label),
              f"set {text[spans[pick].start:spans[pick].end]} to {label}")
    if c[1].button("Remove entity", width="stretch"):
        _save(ctx, row, review.remove_span(spans, pick), f"removed {text[spans[pick].start:spans[pick].end]}")


def add_new(ctx: dict, row: dict, spans: list) -> None:
    text = row["text"]
    units = review.unit_offsets(text, ctx["gran"])
    if not units:
        return
    lo, hi = st.select_slider("Tokens to mark", options=list(range(len(units))), value=(0, 0),
                              key=f"add_range_{ctx['did']}_{row['index']}",
                              format_func=lambda i: f"{i + 1}:{text[units[i][0]:units[i][1]]}")
    start, end = units[lo][0], units[hi][1]
    st.caption(f"new entity: “{text[start:end]}”")
    label = label_choice(ctx, "add_label")
    if st.button("Add entity"):
        new, replaced = review.add_span(spans, start, end, label)
        _save(ctx, row, new, f"added {text[start:end]} as {label}" + (f", replacing {len(replaced)}" if replaced else ""))


def _whole(ctx: dict, row: dict) -> None:
    c = st.columns(2)
    if ctx["mid"] and c[0].button("Use the model's entities for this sentence"):
        _save(ctx, row, review.snap(row["text"], row["pred"], ctx["gran"]), "took the prediction")
    if not ctx.get("blind") and ctx["ws"].correction_versions(ctx["did"], row["index"]) and c[1].button(
            "Undo last correction", icon=":material/undo:", help="Takes back the latest save on this sentence"):
        status.undo_sentence(ctx["ws"], ctx["did"], row["index"])
        st.rerun()


def correct_forms(ctx: dict, row: dict, spans: list) -> None:
    """The form controls, collapsed under the editor (the same saves, by mouse and menus)."""
    msg = st.session_state.pop(FORM_MSG, None)
    with st.expander("Edit with forms", expanded=False, icon=":material/edit:"):
        st.subheader("Correct")
        if msg:
            st.success(msg)
        left, right = st.columns(2)
        try:
            with left:
                edit_existing(ctx, row, spans)
            with right:
                add_new(ctx, row, spans)
            _whole(ctx, row)
        except TaggerError as err:
            shell.fail(err)


def _counts(res: dict) -> None:
    counts = res["counts"]
    st.caption("sentences per status: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    if res["reviewers"]:
        st.dataframe([{"reviewer": who, **c} for who, c in res["reviewers"].items()], hide_index=True)


def export_section(ws, dataset: dict) -> None:
    st.subheader("Export")
    if dataset["format"] not in LABELLED:
        st.info(f"{dataset['name']} is {dataset['format']} (no entity labels): pre-annotate it with a model on the "
                "Data page, then review and export the labelled copy.")
        return
    c = st.columns([2, 1])
    which = c[0].radio("Sentences to export", list(EXPORT_CHOICES), horizontal=True, key="export_only")
    if c[1].button("Prepare the corrected corpus"):
        try:
            st.session_state["export"] = (dataset["id"], which, export_corrected(ws, dataset["id"],
                                                                                 EXPORT_CHOICES[which]))
        except TaggerError as err:
            shell.fail(err)
    done = st.session_state.get("export")
    if not done or done[0] != dataset["id"]:
        return
    res = done[2]
    left, right = st.columns(2)
    with left:
        st.write(f"{res['corrected']} of {res['sentences']} sentences corrected · {done[1]} · "
                 f"{res['format']}, {res['encoding']}")
        if res["problems"]:
            st.error("Reading the file back found problems: " + "; ".join(res["problems"][:10]))
        else:
            st.success("Round trip checked: the file reads back with the same sentences and entities.")
        st.download_button(f"Download {res['filename']}", res["data"], file_name=res["filename"], mime="text/plain")
    with right:
        _counts(res)
