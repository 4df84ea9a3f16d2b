"""Review: sentences with gold and predicted entities highlighted, a per-token
table, filters, span corrections (versioned, undo) and export."""
import pandas as pd
import streamlit as st

from tagger import TaggerError
from tagger.workspace import review
from tagger.workspace.annotate import LABELLED, export_corrected
from ui import pickers, shell
from ui.render import highlight_html

ws = shell.page("Review")
if not ws.datasets():
    st.info("No dataset yet: add one on the Data page.")
    st.stop()

a, b = st.columns(2)
with a:
    did = pickers.pick_dataset(ws)
with b:
    mid = pickers.pick_model(ws, "Predictions of", none="(no model: gold only)", prefer_none=False)
dataset = ws.dataset(did)
corpus = ws.corpus(did)
try:
    with st.spinner("Predicting…"):
        rows = review.review_rows(ws, did, mid)
except TaggerError as err:
    shell.fail(err)
    st.stop()
all_types = sorted({t for r in rows for t in r["types"]})


def filters() -> list[dict]:
    c = st.columns(4)
    only = c[0].toggle("Only disagreements", disabled=mid is None)
    types = c[1].multiselect("Entity types", all_types)
    kinds = c[2].multiselect("Error kinds", review.ERROR_KINDS, disabled=mid is None)
    lowest = c[3].toggle("Lowest confidence first", disabled=mid is None)
    return review.filter_rows(rows, only, types, kinds, lowest)


def _step(ids: list[int], delta: int) -> None:
    cur = st.session_state.get("review_sel")
    pos = ids.index(cur) if cur in ids else 0
    st.session_state["review_sel"] = ids[max(0, min(len(ids) - 1, pos + delta))]


def choose(shown: list[dict]) -> dict:
    ids = [r["index"] for r in shown]
    if st.session_state.get("review_sel") not in ids:
        st.session_state["review_sel"] = ids[0]
    c = st.columns([6, 1, 1])
    texts = {r["index"]: r["text"] for r in shown}
    idx = c[0].selectbox(f"Sentence ({len(shown)} of {len(rows)} shown)", ids, key="review_sel",
                         format_func=lambda i: f"#{i + 1} · {texts[i][:70]}")
    c[1].button("Prev", on_click=_step, args=(ids, -1), width="stretch", icon=":material/chevron_left:")
    c[2].button("Next", on_click=_step, args=(ids, 1), width="stretch", icon=":material/chevron_right:")
    return next(r for r in shown if r["index"] == idx)


def show(row: dict) -> None:
    versions = ws.correction_versions(did, row["index"])
    st.caption(f"sentence {row['index'] + 1} · " + (f"corrected (version {versions})" if versions else "original labels")
               + (f" · errors: {', '.join(row['kinds'])}" if row["kinds"] else ""))
    st.html(highlight_html(row["text"], row["gold"], "gold"))
    if mid:
        st.html(highlight_html(row["text"], row["pred"], "predicted"))
        table = review.token_table(review.predictions(ws, mid, did)[row["index"]], row["gold"])
    else:
        table = review.gold_token_table(row["text"], row["gold"], corpus.granularity)
    df = pd.DataFrame(table)
    df = df.loc[:, [c for c in df.columns if (df[c].astype(str) != "").any()]]  # no empty form/POS columns
    with st.expander("Tokens", expanded=bool(mid)):
        st.dataframe(df, hide_index=True, width="stretch",
                     column_config={"confidence": st.column_config.ProgressColumn(
                         "confidence", min_value=0.0, max_value=1.0, format="%.3f")})


def _save(row: dict, spans, message: str) -> None:
    v = ws.save_correction(did, row["index"], spans)
    st.session_state["review_msg"] = f"{message} · saved as version {v}"


def label_choice(key: str) -> str:
    opts = sorted(set(all_types) | {"PS", "LC", "OG", "DT", "TI", "QT"}) + ["other…"]
    lab = st.selectbox("Type", opts, key=key)
    return st.text_input("New type", key=f"{key}_other") if lab == "other…" else lab


def edit_existing(row: dict) -> None:
    spans, text = sorted(row["gold"]), row["text"]
    if not spans:
        st.caption("No entity in this sentence yet.")
        return
    pick = st.selectbox("Entity", range(len(spans)), key=f"edit_span_{did}_{row['index']}_{hash(tuple(spans))}",
                        format_func=lambda i: f"{text[spans[i].start:spans[i].end]} · {spans[i].label} · "
                                              f"{spans[i].start}–{spans[i].end}")
    label = label_choice("edit_label")
    c = st.columns(2)
    if c[0].button("Set type", width="stretch"):
        _save(row, review.set_label(spans, pick, label), f"set {text[spans[pick].start:spans[pick].end]} to {label}")
        st.rerun()
    if c[1].button("Remove entity", width="stretch"):
        _save(row, review.remove_span(spans, pick), f"removed {text[spans[pick].start:spans[pick].end]}")
        st.rerun()


def add_new(row: dict) -> None:
    text = row["text"]
    units = review.unit_offsets(text, corpus.granularity)
    if not units:
        return
    lo, hi = st.select_slider("Tokens to mark", options=list(range(len(units))), value=(0, 0), key=f"add_range_{did}_{row['index']}",
                              format_func=lambda i: f"{i + 1}:{text[units[i][0]:units[i][1]]}")
    start, end = units[lo][0], units[hi][1]
    st.caption(f"new entity: “{text[start:end]}”")
    label = label_choice("add_label")
    if st.button("Add entity"):
        spans, replaced = review.add_span(row["gold"], start, end, label)
        _save(row, spans, f"added {text[start:end]} as {label}" + (f", replacing {len(replaced)}" if replaced else ""))
        st.rerun()


def correct(row: dict) -> None:
    st.subheader("Correct")
    if msg := st.session_state.pop("review_msg", None):
        st.success(msg)
    left, right = st.columns(2)
    try:
        with left:
            edit_existing(row)
        with right:
            add_new(row)
        c = st.columns(2)
        if mid and c[0].button("Use the model's entities for this sentence"):
            _save(row, review.snap(row["text"], row["pred"], corpus.granularity or "word"), "took the prediction")
            st.rerun()
        if ws.correction_versions(did, row["index"]) and c[1].button("Undo last correction", icon=":material/undo:"):
            ws.undo_correction(did, row["index"])
            st.rerun()
    except TaggerError as err:
        shell.fail(err)


def export() -> None:
    st.subheader("Export")
    if dataset["format"] not in LABELLED:
        st.info(f"{dataset['name']} is {dataset['format']} (no entity labels): pre-annotate it with a model on the "
                "Data page, then review and export the labelled copy.")
        return
    if st.button("Prepare the corrected corpus"):
        try:
            st.session_state["export"] = (did, export_corrected(ws, did))
        except TaggerError as err:
            shell.fail(err)
    done = st.session_state.get("export")
    if done and done[0] == did:
        res = done[1]
        st.write(f"{res['corrected']} of {res['sentences']} sentences corrected · {res['format']}, {res['encoding']}")
        if res["problems"]:
            st.error("Reading the file back found problems: " + "; ".join(res["problems"][:10]))
        else:
            st.success("Round trip checked: the file reads back with the same sentences and entities.")
        st.download_button(f"Download {res['filename']}", res["data"], file_name=res["filename"], mime="text/plain")


shown = filters()
if shown:
    current = choose(shown)
    show(current)
    correct(current)
else:
    st.info("No sentence matches these filters.")
export()
