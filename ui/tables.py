"""Tables and charts the pages share: catalogue rows, the seqeval report, the
training curves. Layout only: every number comes from ``tagger``."""
from __future__ import annotations

import pandas as pd
import streamlit as st


def rows_table(rows: list[dict], empty: str = "none yet") -> None:
    """Rows as a table, or ``empty`` when there is none."""
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        st.write(empty)


def report_table(rows: list[dict]) -> None:
    """The seqeval report as a static table (readable in the page's HTML)."""
    fmt = lambda v: "" if v is None else f"{v:.4f}"  # noqa: E731
    df = pd.DataFrame([{"type": r["type"], "precision": fmt(r["precision"]), "recall": fmt(r["recall"]),
                        "F1": fmt(r["f1"]), "support": "" if r["support"] is None else str(r["support"])}
                       for r in rows]).set_index("type")
    st.table(df)


def history_charts(history: list[dict], key: str = "", metric: str = "dev_f1", label: str = "dev entity F1",
                   empty: str = "No finished epoch yet.") -> None:
    if not history:
        st.caption(empty)
        return
    df = pd.DataFrame(history).set_index("epoch")
    a, b = st.columns(2)
    a.caption("training loss")
    a.line_chart(df[["loss"]], height=220)
    b.caption(label)
    b.line_chart(df[[metric]], height=220)


def curves_chart(curves: dict, caption: str, height: int = 260) -> None:
    """One line per model: ``{name: {epoch: value}}``."""
    if curves:
        st.caption(caption)
        st.line_chart(pd.DataFrame({k: pd.Series(v) for k, v in curves.items()}), height=height)
