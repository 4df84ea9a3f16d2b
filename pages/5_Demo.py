"""Demo: tag Korean text with a workspace model; entities highlighted, a
per-token table, and a share link ``?model=<id>&text=…`` that reopens it."""
import pandas as pd
import streamlit as st

import app_ui
from tagger import TaggerError, ws_models
from tagger.render import MAX_SHARE_TEXT, highlight_html, share_query, split_sentences

MAX_CHARS, MAX_SENTENCES = 5000, 50
EXAMPLE = "김철수는 어제 서울 시청에서 기자회견을 열었다. 삼성전자는 3일 신제품을 발표했다."

ws = app_ui.page("Demo", writable=False)
shared_model, shared_text = st.query_params.get("model"), st.query_params.get("text")
models = ws_models.models(ws)
if shared_model:
    try:
        st.session_state["model"] = ws_models.model_row(ws, shared_model)["id"]
    except TaggerError as err:
        st.error(f"This link names a model that cannot be opened: {err}")
if not models:
    st.info("There is no model in this workspace yet." +
            ("" if app_ui.readonly() else " Train one on the Train page (or use the quick start on Home)."))
    st.stop()

mid = app_ui.pick_model(ws)
if shared_text is not None and st.session_state.get("_shared_text") != shared_text:
    st.session_state["_shared_text"] = shared_text
    st.session_state["demo_text"] = shared_text[:MAX_CHARS]
st.session_state.setdefault("demo_text", EXAMPLE)
text = st.text_area("Korean text (one or more sentences)", key="demo_text", height=120, max_chars=MAX_CHARS)
st.button("Tag", type="primary")


def tag(mid: str, text: str) -> list[dict]:
    sentences = split_sentences(text)
    if len(sentences) > MAX_SENTENCES:
        st.warning(f"Only the first {MAX_SENTENCES} of {len(sentences)} sentences are tagged.")
    with st.spinner("Tagging…"):
        return ws_models.load(ws, mid).predict(sentences[:MAX_SENTENCES]) if sentences else []


def show(results: list[dict]) -> None:
    for i, r in enumerate(results):
        st.html(highlight_html(r["text"], r["entities"]))
        if r["entities"]:
            st.dataframe(pd.DataFrame([{"entity": e["text"], "type": e["label"], "start": e["start"],
                                        "end": e["end"], "score": e["score"]} for e in r["entities"]]),
                         hide_index=True)
        with st.expander(f"tokens of sentence {i + 1}"):
            st.dataframe(pd.DataFrame([{"token": t["text"], "form": t.get("form", ""), "POS": t.get("pos", ""),
                                        "tag": t["tag"], "confidence": t["confidence"]} for t in r["tokens"]]),
                         hide_index=True, width="stretch")


def share(mid: str, text: str) -> None:
    if len(text) > MAX_SHARE_TEXT:
        st.caption(f"The share link keeps the first {MAX_SHARE_TEXT} characters.")
    query = share_query(mid, text)
    st.query_params.from_dict({"model": mid, "text": text[:MAX_SHARE_TEXT]})
    base = (getattr(st.context, "url", None) or "").split("?", 1)[0]
    st.caption("Share link: anyone who opens it sees this result (the model is named by its workspace id).")
    st.code(base + query if base else query, language=None, wrap_lines=True)


try:
    results = tag(mid, text)
except TaggerError as err:
    app_ui.fail(err)
    st.stop()
if results:
    show(results)
    share(mid, text)
else:
    st.caption("Type or paste Korean text above.")
