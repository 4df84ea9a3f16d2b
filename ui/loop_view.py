"""The Review page's annotation loop: *Retrain on what is reviewed* (with an
optional labelled training set and the uncertainty measure), the round's run
panel, the history chart (held-out F1 against the reviewed sentences trained
on) and the queue of unreviewed sentences, most uncertain first.

When a round newer than this session has seen is published, the page takes
it once (:func:`adopt_round`, before the model picker is drawn): *Predictions
of* switches to the round's model, the *Most uncertain first* order is on,
and the editor opens on the top of the queue. Reviewing never waits for a
round: it runs in the background and publishes at its end."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from tagger import TaggerError
from tagger.runs import control as runs
from tagger.runs.rounds import loop_runs, start_round
from tagger.workspace import loop
from tagger.workspace.annotate import LABELLED
from ui import pickers, shell
from ui.review_area import SEL
from ui.review_status import blind, reviewer
from ui.run_panel import run_panel

SEEN, ORDER, RUN = "loop_seen", "_loop_order", "loop_run"
QUEUE_ROWS = 10
MEASURE_HELP = ("path: 1 − P(best tag path); margin: 1 − the smallest gap between a token's two likeliest tags; "
                "entity: 1 − the lowest confidence of a predicted entity or an O decision")


def adopt_round(ws, did: str) -> dict:
    """The dataset's loop state; the first time this session sees a newly
    published round, its model becomes *Predictions of*, the uncertainty order
    is switched on and the sentence picker goes back to the top of the list."""
    try:
        state = loop.state(ws, did)
    except TaggerError as err:
        shell.fail(err)
        return loop.empty_state()
    order, key = state["order"], f"{SEEN}::{did}"
    if order and st.session_state.get(key) != order["round"]:
        st.session_state[key] = order["round"]
        st.session_state["model"] = order["model_id"]  # pickers.pick: the box follows
        st.session_state.pop(f"{SEL}::{did}", None)  # review_area._choose: the first of the list
        st.session_state[ORDER] = True
    return state


def uncertainty_first(rows: list[dict], state: dict, current: dict) -> list[dict]:
    """The *Most uncertain first* toggle: the unreviewed sentences of the last
    round's order first, most uncertain first, then the rest as filtered."""
    order = state.get("order")
    st.session_state.setdefault(ORDER, bool(order))
    label = (f"Most uncertain first (round {order['round']}, {order['measure']})" if order
             else "Most uncertain first (after a round of the loop)")
    on = st.toggle(label, key=ORDER, disabled=order is None,
                   help="The unreviewed sentences in the order of the last round's model, most uncertain first; "
                        "the reviewed ones follow")
    return loop.order_rows(rows, state, current) if on and order else rows


def _latest_run(ws, did: str):
    """This session's last round of the dataset, else the newest one, or None."""
    rows = loop_runs(ws, did)
    mine = st.session_state.get(f"{RUN}::{did}")
    return mine if any(r["id"] == mine for r in rows) else (rows[0]["id"] if rows else None)


def _start(ws, did: str, labelled, measure: str) -> None:
    try:
        st.session_state[f"{RUN}::{did}"] = start_round(ws, did, reviewer(), blind(), labelled, {"measure": measure})
    except TaggerError as err:
        st.session_state[f"{RUN}::{did}::error"] = str(err)


def _start_form(ws, did: str, busy: bool) -> None:
    from tagger.models.uncertainty import MEASURES
    from tagger.training.active import LoopConfig
    others = [d for d in ws.datasets() if d["id"] != did and d["format"] in LABELLED]
    c = st.columns([4, 2, 3], vertical_alignment="bottom")
    with c[0]:
        labelled = pickers.pick("Also train on (optional labelled set)", others, "loop_labelled",
                                pickers.dataset_label, none="(only the reviewed sentences)")
    measure = c[1].selectbox("Uncertainty", MEASURES, index=MEASURES.index(LoopConfig().measure),
                             key="loop_measure", help=MEASURE_HELP)
    c[2].button("Retrain on what is reviewed", type="primary", disabled=busy, icon=":material/model_training:",
                on_click=_start, args=(ws, did, labelled, measure), width="stretch",
                help="Trains in the background on the accepted and corrected sentences (warm-started from the "
                     "last round's model); keep reviewing meanwhile")
    err = st.session_state.pop(f"{RUN}::{did}::error", None)
    if err:
        st.error(err)


def _history(state: dict) -> None:
    rows = loop.history(state)
    if not rows:
        return
    df = pd.DataFrame(rows)
    n = rows[-1]["held-out size"]
    st.caption(f"held-out F1 per round, on the same {n} reviewed sentence{'s' if n != 1 else ''} every round "
               "(never trained on), against the reviewed sentences the round trained on")
    st.vega_lite_chart(df[["round", "reviewed sentences", "held-out F1"]], {
        "mark": {"type": "line", "point": True, "tooltip": True}, "height": 220,
        "encoding": {"x": {"field": "reviewed sentences", "type": "quantitative",
                           "axis": {"format": "d", "tickMinStep": 1}},
                     "y": {"field": "held-out F1", "type": "quantitative", "scale": {"domain": [0, 1]}}}},
        width="stretch")
    st.dataframe(df, hide_index=True, width="stretch",
                 column_config={"held-out F1": st.column_config.NumberColumn(format="%.3f")})


def _queue(ws, did: str, state: dict, current: dict) -> None:
    todo = loop.queue(state, current)
    if not state.get("order"):
        return
    texts = ws.corpus(did).sentences
    order = state["order"]
    st.caption(f"unreviewed, most uncertain first: {len(todo)} sentences (round {order['round']}'s model "
               f"{order['model_id']}, {order['measure']})" + (
                   "; scores that read 1.000 are still ordered, by −log P(best path), which does not saturate"
                   if order["measure"] == "path" and any(u > 0.9995 for _, u in todo) else ""))
    st.dataframe(pd.DataFrame([{"rank": k + 1, "sentence": i + 1, "uncertainty": u, "text": texts[i].text[:80]}
                               for k, (i, u) in enumerate(todo[:QUEUE_ROWS])]),
                 hide_index=True, width="stretch", key=f"loop_queue_{did}",
                 column_config={"uncertainty": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0,
                                                                               format="%.3f")})


def loop_section(ws, dataset: dict, state: dict, current: dict) -> None:
    """Retrain, the round's progress, the history chart and the queue."""
    did = dataset["id"]
    st.subheader("Retrain on what is reviewed")
    if dataset["format"] not in LABELLED:
        st.caption(f"{dataset['name']} has no entity labels: pre-annotate it on the Data page to start the loop.")
        return
    st.caption("Each round trains a tagger on the sentences accepted or corrected so far (plus a labelled set if "
               "you choose one), warm-started from the previous round's model, then ranks the unreviewed "
               "sentences by its uncertainty; review goes on with the old suggestions until it is done. "
               + loop.HELDOUT_RULE.capitalize() + ", the held-out slice scores every round.")
    rid = _latest_run(ws, did)
    busy = bool(rid) and runs.run(ws, rid)["status"] in runs.ACTIVE
    if not shell.readonly():
        _start_form(ws, did, busy)
    if rid:
        with st.expander("The round's run", expanded=busy, icon=":material/directions_run:"):
            run_panel(ws, rid)
    _history(state)
    _queue(ws, did, state, current)
