"""Review: who reviews and how far the review has got, filters, the current
sentence in the span editor (keyboard: label, accept, skip, undo …) with its
gold and predicted entities and the form controls, the annotation loop
(retrain on what is reviewed, most uncertain first) and the export."""
import streamlit as st

from tagger import TaggerError
from tagger.workspace import review, status
from ui import pickers, shell
from ui.agreement_view import agreement_section
from ui.loop_view import adopt_round, loop_section, uncertainty_first
from ui.review_area import context, sentence_area
from ui.review_forms import export_section
from ui.review_status import blind_field, progress_bar, reviewer_field

ws = shell.page("Review")
if not ws.datasets():
    st.info("No dataset yet: add one on the Data page.")
    st.stop()

who = reviewer_field()
blind = blind_field()
a, b = st.columns(2)
with a:
    did = pickers.pick_dataset(ws, key="dataset")
    loop_state = adopt_round(ws, did)  # a newly published round: its model, its order
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
current = status.statuses(ws, did, who if blind else None)  # blind: this reviewer's own counts
progress_bar(status.progress_of(current, len(rows)))
all_types = sorted({t for r in rows for t in r["types"]})
labels = review.editor_labels({sp.label for r in rows for sp in r["gold"]})


def filters() -> list[dict]:
    c = st.columns(3)
    only = c[0].toggle("Only disagreements", disabled=mid is None)
    lowest = c[1].toggle("Lowest confidence first", disabled=mid is None)
    unreviewed = c[2].toggle("Unreviewed first", help="Sentences nobody has accepted, corrected or skipped yet "
                                                      "come first (in the order of the other filters)")
    c = st.columns(2)
    types = c[0].multiselect("Entity types", all_types)
    kinds = c[1].multiselect("Error kinds", review.ERROR_KINDS, disabled=mid is None)
    return review.filter_rows(rows, only, types, kinds, lowest, unreviewed_first=unreviewed, statuses=current)


shown = uncertainty_first(filters(), loop_state, current)
if shown:
    sentence_area(context(ws, dataset, mid, rows, shown, corpus.granularity, labels))
else:
    st.info("No sentence matches these filters.")
loop_section(ws, dataset, loop_state, current)
agreement_section(ws, did)
export_section(ws, dataset)
