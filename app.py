"""Landing page of the Korean sequence-tagging workbench (placeholder until the
pages land): what the workbench does, and the engine's CLI to use meanwhile."""
import streamlit as st

st.set_page_config(page_title="Korean tagging workbench", page_icon="🏷️", layout="wide")
st.title("Korean sequence-tagging workbench")
st.markdown(
    """
Upload a Korean corpus (KLUE char-level, CoNLL, `sentence<TAB>tags`, `text<TAB>label`,
plain text), validate it, tokenize it with **Kkma** (morphemes aligned to the original
characters), by character or by word, train a BiLSTM/GRU(-CRF) tagger, and inspect,
correct and share its predictions.

The browser pages are being built. The engine is complete and runs headless:
"""
)
st.code(
    "python -m tagger validate data/samples/ner_klue.tsv --tokenizer kkma\n"
    "python -m tagger train --train data/samples/ner_klue.tsv --dev data/samples/ner_klue_dev.tsv "
    "--epochs 5 --out data/workspace/models/sample\n"
    "python -m tagger predict --model data/workspace/models/sample 김철수는 서울에 산다.",
    language="bash",
)
st.caption("Bundled samples: data/samples/ (written for this project; no outside data).")
