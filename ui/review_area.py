"""The Review page's sentence area, one ``st.fragment``: the sentence picker
with Prev/Next, the span editor on the current sentence, the gold and
predicted highlighting, the token table and the form controls.

An editor action (a key or a button in the browser) reaches ``_on_action``
before the fragment reruns, so that one rerun shows its result, and only the
fragment reruns: the review rows, filters and the model's predictions come
from the page's last full run (``ctx``); the current sentence's spans and its
status are read afresh from the workspace on every run of the fragment."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from tagger import TaggerError
from tagger.workspace import annotators, review, status
from ui.render import highlight_html
from ui.review_forms import correct_forms
from ui.review_status import blind, reviewer
from ui.span_editor import span_editor

SEL, MSG = "review_sel", "review_msg"
EDITS = ("label", "retype", "remove", "take_model")


def context(ws, dataset: dict, mid, rows: list[dict], shown: list[dict], granularity, labels) -> dict:
    """What the fragment and the action callback need from the page's full run."""
    return {"ws": ws, "did": dataset["id"], "mid": mid, "rows": rows, "shown": shown,
            "ids": [r["index"] for r in shown], "by_index": {r["index"]: r for r in shown},
            "gran": "char" if granularity == "char" else "word", "labels": list(labels),
            "sel": f"{SEL}::{dataset['id']}",  # one picker per dataset: its labels never go stale
            "blind": blind()}


def spans_now(ctx: dict, index: int) -> list:
    """Sentence ``index``'s spans as this session sees them: in blind mode the
    original ones or this reviewer's own correction, else the latest by anyone."""
    if ctx.get("blind"):
        return annotators.spans_for(ctx["ws"], ctx["did"], index, reviewer(), blind=True)
    return review.current_spans(ctx["ws"], ctx["did"], index)


def statuses_now(ctx: dict) -> dict:
    """The statuses this session counts: this reviewer's own in blind mode, else everyone's."""
    return status.statuses(ctx["ws"], ctx["did"], reviewer() if ctx.get("blind") else None)


def _step(sel: str, ids: list[int], delta: int) -> bool:
    """Move the selection ``delta`` places in the shown list; False at its ends."""
    cur = st.session_state.get(sel)
    pos = ids.index(cur) if cur in ids else 0
    new = max(0, min(len(ids) - 1, pos + delta))
    st.session_state[sel] = ids[new]
    return new != pos


def _edit(ctx: dict, index: int, action: dict, who: str) -> str:
    ws, did, row = ctx["ws"], ctx["did"], ctx["by_index"][index]
    spans = spans_now(ctx, index)
    new = review.apply_action(spans, action, row["text"], row["pred"], ctx["gran"])
    v = status.correct(ws, did, index, new, who)
    return f"sentence {index + 1}: {action['action'].replace('_', ' ')} · saved as version {v} · corrected"


def _mark(ctx: dict, index: int, name: str, who: str) -> str:
    """Accept or skip. Accepting a sentence this reviewer has just corrected
    keeps it ``corrected`` (the correction is the review): nothing new is saved."""
    ws, did = ctx["ws"], ctx["did"]
    if name == "skip":
        status.skip(ws, did, index, who)
        return f"sentence {index + 1}: skipped"
    now = statuses_now(ctx).get(index)
    if now and now["status"] == "corrected" and now["reviewer"] == who:
        return f"sentence {index + 1}: corrected"
    status.accept(ws, did, index, who)
    return f"sentence {index + 1}: accepted"


def _undo(ctx: dict, who: str) -> str:
    done = status.undo_last(ctx["ws"], ctx["did"], who)
    if done is None:
        return f"nothing of {who}'s to undo in this dataset"
    index, what = done["index"], "status" if done["kind"] == "status" else "edit"
    if index in ctx["ids"]:
        st.session_state[ctx["sel"]] = index
        return f"undid {who}'s last {what} on sentence {index + 1}"
    return f"undid {who}'s last {what} on sentence {index + 1} (not in the filtered list)"


def _on_action(ctx: dict, index: int, action: dict) -> None:
    """The editor's action on sentence ``index``, applied once, before the rerun."""
    name, who = action["action"], reviewer()
    try:
        if name in EDITS:
            msg = _edit(ctx, index, action, who)
        elif name in ("accept", "skip"):
            msg = _mark(ctx, index, name, who)
            if not _step(ctx["sel"], ctx["ids"], 1):
                msg += " · that was the last sentence of the list"
        elif name in ("next", "prev"):
            msg = "" if _step(ctx["sel"], ctx["ids"], 1 if name == "next" else -1) else "no more sentences that way"
        else:
            msg = _undo(ctx, who)
    except TaggerError as err:
        msg = f"error: {err}"
    st.session_state[MSG] = msg


def _choose(ctx: dict) -> dict:
    shown, ids = ctx["shown"], ctx["ids"]
    if st.session_state.get(ctx["sel"]) not in ids:
        st.session_state[ctx["sel"]] = ids[0]
    c = st.columns([6, 1, 1])
    texts = {r["index"]: r["text"] for r in shown}
    idx = c[0].selectbox(f"Sentence ({len(shown)} of {len(ctx['rows'])} shown)", ids, key=ctx["sel"],
                         format_func=lambda i: f"#{i + 1} · {texts[i][:70]}")
    c[1].button("Prev", on_click=_step, args=(ctx["sel"], ids, -1), width="stretch", icon=":material/chevron_left:")
    c[2].button("Next", on_click=_step, args=(ctx["sel"], ids, 1), width="stretch", icon=":material/chevron_right:")
    return ctx["by_index"][idx]


def _caption(ctx: dict, row: dict, current: dict, counts: dict) -> str:
    i = row["index"]
    now = current.get(i)
    state = f"{now['status']} by {now['reviewer']}" if now else "unreviewed"
    pos = ctx["ids"].index(i) + 1
    return f"sentence {i + 1} · {pos} of {len(ctx['ids'])} in the list · {state} · {counts['text']}"


def _editor(ctx: dict, row: dict, spans: list) -> None:
    current = statuses_now(ctx)
    counts = status.progress_of(current, len(ctx["rows"]))
    pred = row["pred"] if ctx["mid"] else None
    model = pred if pred is not None and set(pred) != set(spans) else None
    span_editor(row["text"], review.unit_offsets(row["text"], ctx["gran"]), spans, model_spans=model,
                labels=ctx["labels"], key="review_editor", granularity=ctx["gran"],
                on_action=lambda action: _on_action(ctx, row["index"], action),
                caption=_caption(ctx, row, current, counts))
    msg = st.session_state.pop(MSG, None)
    if msg:
        (st.error if msg.startswith("error: ") else st.caption)(msg)


def _highlight(ctx: dict, row: dict, spans: list) -> None:
    ws, did, mid = ctx["ws"], ctx["did"], ctx["mid"]
    versions = ws.correction_versions(did, row["index"])
    state = f"corrected (version {versions})" if versions else "original labels"
    if ctx.get("blind"):
        state = "blind: " + ("your correction" if row["index"] in ws.corrections(did, reviewer())
                             else "original labels")
    st.caption(f"sentence {row['index'] + 1} · " + state
               + (f" · errors: {', '.join(row['kinds'])}" if row["kinds"] else ""))
    st.html(highlight_html(row["text"], spans, "gold"))
    if mid:
        st.html(highlight_html(row["text"], row["pred"], "predicted"))
        table = review.token_table(row["result"], spans)
    else:
        table = review.gold_token_table(row["text"], spans, ctx["gran"])
    df = pd.DataFrame(table)
    df = df.loc[:, [c for c in df.columns if (df[c].astype(str) != "").any()]]  # no empty form/POS columns
    with st.expander("Tokens", expanded=False):
        st.dataframe(df, hide_index=True, width="stretch",
                     column_config={"confidence": st.column_config.ProgressColumn(
                         "confidence", min_value=0.0, max_value=1.0, format="%.3f")})


@st.fragment
def sentence_area(ctx: dict) -> None:
    """The current sentence: picker, editor, highlighting, tokens and forms.
    An action in it reruns this fragment only."""
    row = _choose(ctx)
    spans = spans_now(ctx, row["index"])
    _editor(ctx, row, spans)
    _highlight(ctx, row, spans)
    correct_forms(ctx, row, spans)
