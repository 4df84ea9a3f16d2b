"""The Review page's *Agreement* section, for a dataset two (or more)
reviewers annotated: pick reviewers A and B, see how far they agree (span F1,
Cohen's kappa, the per-type table, the disagreeing sentences with both sides
highlighted; every figure from ``agreement.agreement``) and adjudicate the
disagreements one by one: take A, take B, merge them (one choice per
conflict) or edit the spans, each recorded under the session's reviewer as
adjudicator, and undo an adjudication. The export writes the adjudicated
version of a sentence."""
from __future__ import annotations

import streamlit as st

from tagger import TaggerError
from tagger.workspace import agreement, annotators, review
from ui import shell
from ui.render import highlight_html
from ui.review_status import reviewer

MSG = "agree_msg"
LIST_MAX = 100  # disagreeing sentences listed at most
SIDES = {"a": "A", "b": "B", "neither": "neither"}
NO_SPAN = "(no new span)"


def fmt(x, digits: int = 3) -> str:
    """A figure as shown (``—`` when there is none)."""
    return "—" if x is None else f"{x:.{digits}f}"


def _step(key: str, ids: list, delta: int) -> None:
    cur = st.session_state.get(key)
    pos = ids.index(cur) if cur in ids else 0
    st.session_state[key] = ids[max(0, min(len(ids) - 1, pos + delta))]


def _pair(did: str, names: list[str]) -> tuple[str, str]:
    c = st.columns(2)
    a = c[0].selectbox("Reviewer A", names, index=0, key=f"agree_a::{did}")
    b = c[1].selectbox("Reviewer B", names, index=1, key=f"agree_b::{did}")
    return a, b


def _figures(rep: dict) -> None:
    a, b = rep["reviewers"]
    c = st.columns(4)
    c[0].metric("Span F1", fmt(rep["f1"]))
    c[1].metric("Cohen's kappa", fmt(rep["kappa"]))
    c[2].metric("Units compared", f"{rep['units']:,}")
    c[3].metric("Sentences compared", f"{rep['sentences']:,}")
    c = st.columns(4)
    c[0].metric("Only A reviewed", f"{len(rep['only_a']):,}")
    c[1].metric("Only B reviewed", f"{len(rep['only_b']):,}")
    c[2].metric("Disagreeing sentences", f"{rep['disagreeing']:,}")
    c[3].metric("Observed unit agreement", fmt(rep["observed"]))
    st.caption(f"A = {a}, B = {b}, over the sentences both accepted or corrected · spans: A {rep['a']:,}, "
               f"B {rep['b']:,}, both {rep['both']:,} · kappa over every unit (word or character), each "
               "labelled with its entity type or O (B-/I- ignored)")


def _per_type(rep: dict) -> None:
    rows = [{"type": t, "F1": p["f1"], "A": p["a"], "B": p["b"], "both": p["both"]}
            for t, p in sorted(rep["per_type"].items())]
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch",
                     column_config={"F1": st.column_config.NumberColumn("F1", format="%.3f")})


def _disagreements(rep: dict) -> None:
    a, b = rep["reviewers"]
    items = rep["disagreements"]
    st.caption(f"{rep['disagreeing']:,} disagreeing sentences" + (f" (the first {LIST_MAX} listed)"
                                                                  if len(items) > LIST_MAX else ""))
    for d in items[:LIST_MAX]:
        head = (f'<div style="font-size:.85em;color:#555">sentence {d["index"] + 1} · adjudicated: '
                f'{"yes" if d["adjudicated"] else "no"}</div>')
        st.html(head + highlight_html(d["text"], d["a"], f"A · {a}") + highlight_html(d["text"], d["b"], f"B · {b}"))


def agreement_section(ws, did: str) -> None:
    """The Agreement section; nothing when fewer than two reviewers reviewed ``did``."""
    names = list(annotators.reviewers(ws, did))
    if len(names) < 2:
        return
    with st.expander("Agreement between two reviewers", expanded=False, icon=":material/group:"):
        a, b = _pair(did, names)
        if a == b:
            st.warning("Pick two different reviewers.")
            return
        try:
            rep = agreement.agreement(ws, did, a, b)
        except TaggerError as err:
            shell.fail(err)
            return
        figures, listing, adjudicate = st.tabs(["Figures", "Disagreements", "Adjudicate"])
        with figures:
            _figures(rep)
            _per_type(rep)
        with listing:
            _disagreements(rep)
        with adjudicate:
            adjudication(ws, did, rep)


# ---- adjudication -------------------------------------------------------------------------
def _span_text(text: str, spans) -> str:
    return ", ".join(f"{text[s.start:s.end]}/{s.label}" for s in spans) or "nothing"


def _choose(did: str, rep: dict, done: dict) -> dict:
    a, b = rep["reviewers"]
    by = {d["index"]: d for d in rep["disagreements"]}
    ids, key = list(by), f"adj_sel::{did}::{a}::{b}"
    if st.session_state.get(key) not in ids:
        st.session_state[key] = ids[0]
    c = st.columns([6, 1, 1])
    idx = c[0].selectbox(f"Disagreement ({sum(i in done for i in ids)} of {len(ids)} adjudicated)", ids, key=key,
                         format_func=lambda i: f"#{i + 1} · {'adjudicated' if i in done else 'open'} · "
                                               f"{by[i]['text'][:60]}")
    c[1].button("Prev", key=f"{key}_prev", on_click=_step, args=(key, ids, -1), width="stretch")
    c[2].button("Next", key=f"{key}_next", on_click=_step, args=(key, ids, 1), width="stretch")
    return by[idx]


def _conflict_choices(text: str, clashes: list[dict], key: str) -> list:
    choices = []
    for k, clash in enumerate(clashes):
        pick = st.radio(f"Conflict {k + 1}: A {_span_text(text, clash['a'])} · B {_span_text(text, clash['b'])}",
                        list(SIDES), format_func=SIDES.get, horizontal=True, key=f"{key}_c{k}")
        choices.append(None if pick == "neither" else pick)
    return choices


def _record(message: str, fn, *args) -> None:
    try:
        fn(*args)
        st.session_state[MSG] = message
    except TaggerError as err:
        st.session_state[MSG] = f"error: {err}"
    st.rerun()


def _buttons(ws, did: str, index: int, rep: dict, choices: list, done: dict) -> None:
    a, b = rep["reviewers"]
    who, n = reviewer(), index + 1
    c = st.columns(4)
    if c[0].button(f"Take A ({a})", key="adj_take_a", width="stretch"):
        _record(f"sentence {n}: took {a}'s spans", agreement.pick, ws, did, index, a, who)
    if c[1].button(f"Take B ({b})", key="adj_take_b", width="stretch"):
        _record(f"sentence {n}: took {b}'s spans", agreement.pick, ws, did, index, b, who)
    if c[2].button("Merge", key="adj_merge", width="stretch"):
        _record(f"sentence {n}: merged", agreement.merge, ws, did, index, a, b, who, choices)
    if c[3].button("Undo adjudication", key="adj_undo", width="stretch", disabled=index not in done,
                   icon=":material/undo:"):
        _record(f"sentence {n}: adjudication undone", agreement.undo_adjudication, ws, did, index)


def _edit(ws, did: str, item: dict, merged: list, rep: dict) -> None:
    """Edit: any of A's and B's spans (the merge preselected) plus one new span."""
    text, index = item["text"], item["index"]
    candidates = sorted(set(item["a"]) | set(item["b"]))
    keep = st.multiselect("Spans of the adjudicated version", range(len(candidates)),
                          default=[i for i, s in enumerate(candidates) if s in merged], key=f"adj_keep_{did}_{index}",
                          format_func=lambda i: f"{_span_text(text, [candidates[i]])} · "
                                                f"{candidates[i].start}–{candidates[i].end}")
    gran = "char" if ws.corpus(did).granularity == "char" else "word"
    units = review.unit_offsets(text, gran)
    c = st.columns([3, 1])
    lo, hi = c[0].select_slider("New span over", options=list(range(len(units))), value=(0, 0),
                                key=f"adj_range_{did}_{index}",
                                format_func=lambda i: f"{i + 1}:{text[units[i][0]:units[i][1]]}")
    types = sorted({s.label for s in candidates} | set(review.KLUE_TYPES))
    label = c[1].selectbox("New span's type", [NO_SPAN] + types, key=f"adj_label_{did}_{index}")
    spans = [candidates[i] for i in keep]
    if label != NO_SPAN:
        spans = review.add_span(spans, units[lo][0], units[hi][1], label)[0]
    st.html(highlight_html(text, spans, "edited"))
    if st.button("Save the edit as adjudicated", key="adj_edit"):
        _record(f"sentence {index + 1}: edited", agreement.edit, ws, did, index, spans, reviewer(), rep["reviewers"])


def adjudication(ws, did: str, rep: dict) -> None:
    """Each disagreement in turn: both sides, the merge and its conflicts, the actions."""
    msg = st.session_state.pop(MSG, None)
    if msg:
        (st.error if msg.startswith("error: ") else st.success)(msg)
    if not rep["disagreements"]:
        st.caption("No disagreement to adjudicate.")
        return
    a, b = rep["reviewers"]
    done = agreement.adjudications(ws, did)
    item = _choose(did, rep, done)
    text, index = item["text"], item["index"]
    left, right = st.columns(2)
    left.html(highlight_html(text, item["a"], f"A · {a}"))
    right.html(highlight_html(text, item["b"], f"B · {b}"))
    merged, clashes = agreement.conflicts(ws, did, index, a, b)
    st.html(highlight_html(text, merged, "merged"))
    st.caption(f"{len(clashes)} conflict(s): for Merge, choose a side for each")
    choices = _conflict_choices(text, clashes, f"adj_{did}_{index}")
    if index in done:
        now = done[index]
        st.html(highlight_html(text, now["spans"], f"adjudicated ({now['how']} by {now['adjudicator']})"))
    else:
        st.caption("not adjudicated yet")
    _buttons(ws, did, index, rep, choices, done)
    with st.popover("Edit", icon=":material/edit:"):
        _edit(ws, did, item, merged, rep)
