"""Demo: try a workspace model on Korean text. A tagger highlights entities
(and a per-token table), a language model completes the text (next tokens
with probabilities, sampled continuations), a classifier labels each sentence
with probabilities; a share link ``?model=<id>&text=…`` reopens any of them."""
import pandas as pd
import streamlit as st

from tagger import TaggerError
from tagger.workspace import models as ws_models
from ui import pickers, shell, views
from ui.options import split_sentences
from tagger.workspace.demo_server import EXAMPLES
from ui.render import MAX_SHARE_TEXT, highlight_html, share_query

MAX_CHARS, MAX_SENTENCES = 5000, 50
ACTIONS = {"tagger": ("Tag", "Entities are highlighted in each sentence."),
           "lm": ("Complete", "The language model continues the text: its most likely next tokens and a few "
                  "sampled continuations."),
           "classifier": ("Classify", "Each sentence gets the classifier's label and every label's probability.")}

ws = shell.page("Demo", writable=False)
shared_model, shared_text = st.query_params.get("model"), st.query_params.get("text")
models = ws_models.models(ws)
if shared_model:
    try:
        st.session_state["model"] = ws_models.model_row(ws, shared_model)["id"]
    except TaggerError as err:
        st.error(f"This link names a model that cannot be opened: {err}")
if not models:
    st.info("There is no model in this workspace yet." +
            ("" if shell.readonly() else " Train one on the Train page (or use the quick start on Home)."))
    st.stop()

mid = pickers.pick_model(ws, kinds=None)
kind = ws_models.model_row(ws, mid)["kind"]
if shared_text is not None and st.session_state.get("_shared_text") != shared_text:
    st.session_state["_shared_text"] = shared_text
    st.session_state["demo_text"] = shared_text[:MAX_CHARS]
if st.session_state.get("demo_text") in set(EXAMPLES.values()) - {EXAMPLES[kind]}:
    st.session_state["demo_text"] = EXAMPLES[kind]  # another kind's example: this kind's instead
st.session_state.setdefault("demo_text", EXAMPLES[kind])
st.caption(ACTIONS[kind][1])
text = st.text_area("Korean text (one or more sentences)", key="demo_text", height=120, max_chars=MAX_CHARS)
st.button(ACTIONS[kind][0], type="primary")


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
    # the page's own link is not a new shared text: else the next edit is replaced by this text
    st.session_state["_shared_text"] = text[:MAX_SHARE_TEXT]
    base = (getattr(st.context, "url", None) or "").split("?", 1)[0]
    st.caption("Share link: anyone who opens it sees this result (the model is named by its workspace id).")
    st.code(base + query if base else query, language=None, wrap_lines=True)


def run(kind: str, mid: str, text: str) -> bool:
    """Show the model's result for ``text``; False when there is nothing to show."""
    if kind == "lm":
        prefix = " ".join(text.split()).strip()
        if prefix:
            views.completion_view(ws, mid, prefix, key="demo_lm")
        return bool(prefix)
    if kind == "classifier":
        sentences = split_sentences(text)
        views.classify_view(ws, mid, sentences)
        return bool(sentences)
    results = tag(mid, text)
    show(results)
    return bool(results)


try:
    shown = run(kind, mid, text)
except TaggerError as err:
    shell.fail(err)
    st.stop()
if shown:
    share(mid, text)
else:
    st.caption("Type or paste Korean text above.")
