"""Who is reviewing and how far the review has got: the reviewer name in the
sidebar (kept in the session across pages) and the progress bar with its
counts, on the Review page and on Home."""
from __future__ import annotations

import streamlit as st

from tagger.workspace import status
from tagger.workspace.annotate import LABELLED

REVIEWER = "reviewer"  # the session's reviewer name (cleaned); "_reviewer" is its text box
BLIND = "review_blind"  # the session's blind mode; "_review_blind" is its toggle
HOME_MAX = 5


def reviewer() -> str:
    """The session's reviewer: the name in the sidebar box, else the default
    (``TAGGER_USER``, else the login name), cleaned as the workspace stores it."""
    return st.session_state.get(REVIEWER) or status.clean_reviewer(None)


def reviewer_field() -> str:
    """The sidebar's reviewer box; every save of this session names this reviewer."""
    ss = st.session_state
    if "_reviewer" not in ss:  # a page without the box drops its widget state: start from the name
        ss["_reviewer"] = reviewer()
    name = st.sidebar.text_input("Reviewer", key="_reviewer", max_chars=60,
                                 help="Every correction, accept and skip is saved under this name "
                                      "(default: $TAGGER_USER, else your login name).")
    ss[REVIEWER] = status.clean_reviewer(name)
    return ss[REVIEWER]


def blind() -> bool:
    """Whether this session reviews blind (the sidebar toggle, kept across pages)."""
    return bool(st.session_state.get(BLIND, False))


def blind_field() -> bool:
    """The sidebar's blind-mode toggle: when on, the Review page shows the
    corpus's original spans plus only this reviewer's own corrections."""
    ss = st.session_state
    if "_review_blind" not in ss:
        ss["_review_blind"] = blind()
    on = st.sidebar.toggle("Blind review (hide other reviewers' corrections)", key="_review_blind",
                           help="Show the original labels and only your own corrections and counts, "
                                "so that two reviewers annotate independently.")
    ss[BLIND] = bool(on)
    return ss[BLIND]


def progress_bar(counts: dict, name: str = "", where=st) -> None:
    """A ``status.progress`` result as a bar with its counts text (after ``name``)."""
    total = counts["total"] or 1
    text = f"{name} · {counts['text']}" if name else counts["text"]
    where.progress(min(1.0, counts["reviewed"] / total), text=text)


def home_progress(ws) -> None:
    """Home: the review progress of each labelled dataset someone has reviewed
    (most recent first), else of the most recent labelled dataset."""
    labelled = {d["id"]: d for d in ws.datasets() if d["format"] in LABELLED}
    ids = [i for i in status.reviewed_datasets(ws) if i in labelled][:HOME_MAX] or list(labelled)[:1]
    if not ids:
        return
    st.caption("review progress")
    for did in ids:
        progress_bar(status.progress(ws, did), f"{labelled[did]['name']} ({did})")
