"""Language models: the workspace's LMs compared on one held-out text
(perplexity, bits per character, OOV rate; table and chart), n-gram sparsity
by order, and an autocomplete box (next tokens with probabilities, sampled
continuations with a temperature)."""
import pandas as pd
import streamlit as st

from tagger import TaggerError
from tagger.workspace import lm as ws_lm
from ui import pickers, shell, views

PREFIX = "철수와 영희는 식탁에 앉아 사과를"

ws = shell.page("Language models")
lms = ws_lm.lm_models(ws)
if not lms:
    st.info("No language model in this workspace yet: train one on the Train page (task: Language model), "
            "or import one made with `python -m tagger lm-train`.")
    shell.link("app_pages/2_train.py", "Go to Train", ":material/model_training:")
    st.stop()
labels = {m["id"]: pickers.model_label(m) for m in lms}


def comparison() -> list[dict]:
    st.header("Perplexity on held-out text")
    a, b = st.columns([2, 3])
    with a:
        did = pickers.pick_dataset(ws, "Held-out text (any dataset: its sentence text)", key="lm_heldout")
    chosen = b.multiselect("Language models", list(labels), default=list(labels), format_func=labels.get)
    if did is None or not chosen:
        st.info("Pick a dataset and at least one language model.")
        return []
    with st.spinner("Scoring the held-out text with each model…"):
        rows, problems = ws_lm.compare(ws, did, chosen)
    for p in problems:
        st.warning(p)
    if not rows:
        return []
    df = pd.DataFrame(rows)
    st.dataframe(df[["model", "name", "kind", "tokenizer", "perplexity", "bits/char", "OOV rate", "tokens",
                     "vocabulary"]], hide_index=True, width="stretch", column_config={
        "perplexity": st.column_config.NumberColumn(format="%.2f"),
        "bits/char": st.column_config.NumberColumn(format="%.4f"),
        "OOV rate": st.column_config.NumberColumn(format="percent")})
    st.caption("Perplexity is per predicted token (each token and one end of sentence per line), so it only "
               "compares models with the same tokenizer; bits per character compare across tokenizers. "
               "OOV rate: held-out tokens outside the model's vocabulary (scored as <unk>).")
    chart = df.assign(label=df["name"] + " (" + df["model"] + ")").set_index("label")
    left, right = st.columns(2)
    left.caption("perplexity (lower is better)")
    left.bar_chart(chart[["perplexity"]], height=260, horizontal=True)
    right.caption("bits per character (lower is better)")
    right.bar_chart(chart[["bits/char"]], height=260, horizontal=True)
    return rows


def sparsity(rows: list[dict]) -> None:
    st.header("n-gram sparsity by order")
    sp = ws_lm.sparsity(rows)
    if not sp:
        st.caption("No n-gram model in the comparison.")
        return
    df = pd.DataFrame(sp).pivot(index="order", columns="model", values="unseen share")
    st.caption("Share of the held-out n-grams (with sentence-start padding) never seen in training: "
               "the longer the n-gram, the more of them are new, which is what smoothing is for.")
    left, right = st.columns([2, 3])
    left.dataframe(df.map(lambda v: "" if pd.isna(v) else f"{v:.1%}"), width="stretch")
    right.line_chart(df, height=240)


def autocomplete() -> None:
    st.header("Autocomplete")
    mid = pickers.pick_model(ws, "Language model", key="lm_model", kinds=("lm",))
    prefix = st.text_input("Prefix", PREFIX, key="lm_prefix", max_chars=ws_lm.MAX_PREFIX)
    if prefix.strip():
        views.completion_view(ws, mid, prefix, key="lm_page")


try:
    sparsity(comparison())
    autocomplete()
except TaggerError as err:
    shell.fail(err)
