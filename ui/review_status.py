"""Who is reviewing and how far the review has got: the reviewer name in the
sidebar (kept in the session across pages) and the progress bar with its
counts, on the Review page and on Home."""
from __future__ import annotations

import streamlit as st

from tagger.workspace import status
from tagger.workspace.annotate import LABELLED

REVIEWER = "reviewer"  # the session's reviewer name (cleaned); "_reviewer" is its text box
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
