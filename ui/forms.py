"""The Train page's forms: a tagger, a language model, a sentence classifier. Each returns ``(run config, run
name)`` when its start button was pressed, else None; ``tagger.runs`` checks
the config and starts the background run. UI only."""
from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from ui import pickers
from tagger.runs import control as runs
from tagger.workspace import classify as ws_classify
from tagger.models.classifier import ClassifierConfig
from tagger.lm import CONFIGS, LMDataConfig, train_defaults as lm_train_defaults
from ui.options import DEFAULT_TOKENIZER, TOKENIZERS, model_defaults, train_defaults

LM_KINDS = {"ngram": "n-gram (counts, smoothed)", "window": "window (feed-forward)", "rnn": "RNN (recurrent)"}
LM_TOKENIZER = "kkma"      # as `python -m tagger lm-train`: morphemes by default
CLS_TOKENIZER = "char"     # as `python -m tagger classify-train`


def _tagger_settings() -> dict:
    mc = model_defaults()
    a, b, c = st.columns(3)
    return {"rnn_type": a.selectbox("Cell", ["lstm", "gru", "rnn"], index=["lstm", "gru", "rnn"].index(mc["rnn_type"])),
            "num_layers": b.number_input("Layers", 1, 6, mc["num_layers"]),
            "hidden_size": c.number_input("Hidden size (per direction)", 8, 2048, mc["hidden_size"], step=8),
            "embedding_dim": a.number_input("Token embedding", 8, 1024, mc["embedding_dim"], step=8),
            "dropout": b.number_input("Dropout", 0.0, 0.9, mc["dropout"], step=0.05),
            "char_encoder": c.selectbox("Character encoder", ["cnn", "lstm", "none"],
                                        index=["cnn", "lstm", "none"].index(mc["char_encoder"])),
            "bidirectional": a.checkbox("Bidirectional", mc["bidirectional"]),
            "use_crf": b.checkbox("CRF head", mc["use_crf"]),
            "layer_norm": c.checkbox("Layer norm", mc["layer_norm"])}


def _train_settings() -> dict:
    tc = train_defaults()
    a, b, c = st.columns(3)
    return {"epochs": a.number_input("Epochs", 1, 500, tc["epochs"]),
            "batch_size": b.number_input("Batch size", 1, 1024, tc["batch_size"]),
            "lr": c.number_input("Learning rate", 1e-5, 1.0, tc["lr"], format="%.4f", step=1e-4),
            "patience": a.number_input("Early-stopping patience (epochs)", 1, 500, tc["patience"]),
            "seed": b.number_input("Seed", 0, 1_000_000, tc["seed"]),
            "device": c.selectbox("Device", ["auto", "cpu", "cuda"])}


def tagger_form(ws):
    """A BiLSTM/GRU(-CRF) tagger on labelled datasets."""
    with st.form("train"):
        a, b = st.columns(2)
        with a:
            train_id = pickers.pick_dataset(ws, "Training data", key="dataset")
        with b:
            dev_id = pickers.pick_dataset(ws, "Dev data (picks epochs; never the evaluation file)",
                                          key="dev", none="hold out every 10th training sentence")
        a, b, c = st.columns(3)
        tok = a.selectbox("Tokenizer", TOKENIZERS, index=TOKENIZERS.index(DEFAULT_TOKENIZER))
        name = b.text_input("Run name (optional)")
        threads = c.number_input("CPU threads", 1, 64, runs.default_threads())
        corrected = st.checkbox("Train on the corrected labels (Review page corrections)", True)
        mc = _tagger_settings()
        tc = _train_settings()
        go = st.form_submit_button("Start training", type="primary")
    if not go:
        return None
    return ({"task": "tagger", "train_id": train_id, "dev_id": dev_id if dev_id != train_id else None,
             "tokenizer": tok, "model": mc, "train": tc, "threads": int(threads), "corrected": corrected}, name)


def _common(key: str, default_tok: str) -> tuple:
    a, b, c = st.columns(3)
    tok = a.selectbox("Tokenizer", TOKENIZERS, index=TOKENIZERS.index(default_tok), key=f"{key}_tok")
    name = b.text_input("Run name (optional)", key=f"{key}_name")
    threads = c.number_input("CPU threads", 1, 64, runs.default_threads(), key=f"{key}_threads")
    return tok, name, int(threads)


def _ngram_settings() -> dict:
    d = asdict(CONFIGS["ngram"]())
    a, b, c = st.columns(3)
    return {"order": int(a.number_input("Order (n)", 1, 5, d["order"])),
            "smoothing": b.selectbox("Smoothing", ["kn", "addk"],
                                     format_func=lambda s: {"kn": "Kneser-Ney (interpolated)", "addk": "add-k"}[s]),
            "k": float(c.number_input("k (add-k only)", 1e-6, 10.0, d["k"], format="%.4f"))}


def _window_settings() -> dict:
    d = asdict(CONFIGS["window"]())
    a, b, c = st.columns(3)
    return {"order": int(a.number_input("Order (n: window of n-1 tokens)", 2, 10, d["order"])),
            "embedding_dim": int(b.number_input("Token embedding", 8, 1024, d["embedding_dim"], step=8)),
            "hidden_size": int(c.number_input("Hidden size", 8, 4096, d["hidden_size"], step=8)),
            "dropout": float(a.number_input("Dropout", 0.0, 0.9, d["dropout"], step=0.05))}


def _rnn_settings() -> dict:
    d = asdict(CONFIGS["rnn"]())
    a, b, c = st.columns(3)
    return {"cell": a.selectbox("Cell", ["lstm", "gru", "rnn"]),
            "num_layers": int(b.number_input("Layers", 1, 6, d["num_layers"])),
            "hidden_size": int(c.number_input("Hidden size", 8, 4096, d["hidden_size"], step=8)),
            "embedding_dim": int(a.number_input("Token embedding (tied: the hidden size)", 8, 4096,
                                                d["embedding_dim"], step=8)),
            "dropout": float(b.number_input("Dropout (between layers)", 0.0, 0.9, d["dropout"], step=0.05)),
            "tie": c.checkbox("Tie input and output embeddings", d["tie"])}


def _lm_train_settings(kind: str) -> dict:
    t = asdict(lm_train_defaults(kind))
    a, b, c = st.columns(3)
    out = {"epochs": int(a.number_input("Epochs", 1, 500, t["epochs"])),
           "lr": float(b.number_input("Learning rate", 1e-5, 1.0, t["lr"], format="%.4f", step=1e-4)),
           "patience": int(c.number_input("Early-stopping patience (epochs)", 1, 100, t["patience"]))}
    if kind == "rnn":
        out["batch_size"] = int(a.number_input("Stream columns (batch)", 1, 1024, t["batch_size"]))
        out["bptt"] = int(b.number_input("BPTT length (tokens)", 2, 1000, t["bptt"]))
    else:
        out["window_batch"] = int(a.number_input("Batch size", 1, 8192, t["window_batch"]))
    out["device"] = c.selectbox("Device", ["auto", "cpu", "cuda"], key="lm_device")
    return out


def lm_form(ws):
    """Language model: kind (outside the form, so its settings follow), data, settings."""
    kind = st.radio("Language model kind", list(LM_KINDS), format_func=LM_KINDS.get, horizontal=True,
                    key="lm_kind")
    with st.form("train_lm"):
        a, b = st.columns(2)
        with a:
            train_id = pickers.pick_dataset(ws, "Training text (any dataset: its sentence text)", key="lm_text")
        with b:
            dev_id = pickers.pick_dataset(ws, "Held-out text (dev: early stopping and scores)", key="lm_dev",
                                         none="none (window/RNN hold out every 10th line)")
        tok, name, threads = _common("lm", LM_TOKENIZER)
        lm = {"ngram": _ngram_settings, "window": _window_settings, "rnn": _rnn_settings}[kind]()
        train = _lm_train_settings(kind) if kind != "ngram" else {}
        min_freq = st.number_input("Minimum token count (rarer training tokens become <unk>)", 1, 100,
                                   LMDataConfig().min_freq)
        go = st.form_submit_button("Start training", type="primary")
    if not go:
        return None
    return ({"task": "lm", "lm_kind": kind, "train_id": train_id,
             "dev_id": dev_id if dev_id != train_id else None, "tokenizer": tok, "lm": lm, "train": train,
             "data": {"min_freq": int(min_freq)}, "threads": threads}, name)


def _classifier_settings() -> dict:
    m, t = asdict(ClassifierConfig()), train_defaults()
    a, b, c = st.columns(3)
    return {"model": {"rnn_type": a.selectbox("Cell", ["lstm", "gru", "rnn"]),
                      "num_layers": int(b.number_input("Layers", 1, 6, m["num_layers"])),
                      "hidden_size": int(c.number_input("Hidden size (per direction)", 8, 2048, m["hidden_size"],
                                                        step=8)),
                      "embedding_dim": int(a.number_input("Token embedding", 8, 1024, m["embedding_dim"], step=8)),
                      "dropout": float(b.number_input("Dropout", 0.0, 0.9, m["dropout"], step=0.05)),
                      "pooling": c.selectbox("Sentence vector", ["final", "max"],
                                             index=["final", "max"].index(m["pooling"]), format_func=lambda p: {
                          "final": "final hidden states", "max": "max-pooled outputs"}[p]),
                      "bidirectional": a.checkbox("Bidirectional", m["bidirectional"])},
            "train": {"epochs": int(b.number_input("Epochs", 1, 500, t["epochs"])),
                      "batch_size": int(c.number_input("Batch size", 1, 1024, t["batch_size"])),
                      "lr": float(a.number_input("Learning rate", 1e-5, 1.0, t["lr"], format="%.4f", step=1e-4)),
                      "patience": int(b.number_input("Early-stopping patience (epochs)", 1, 500, t["patience"])),
                      "device": c.selectbox("Device", ["auto", "cpu", "cuda"], key="cls_device")}}


def classifier_form(ws):
    """Sentence classifier on ``text-label`` datasets."""
    labelled = ws_classify.labelled_datasets(ws)
    if not labelled:
        st.info("A classifier learns from a text-label dataset (TEXT<TAB>LABEL lines): add one on the Data "
                "page (the bundled sample classify.tsv is one).")
        return None
    with st.form("train_classifier"):
        a, b = st.columns(2)
        with a:
            train_id = pickers.pick_dataset(ws, "Training data (text-label)", key="cls_train", rows=labelled)
        with b:
            dev_id = pickers.pick_dataset(ws, "Dev data (picks epochs)", key="cls_dev", rows=labelled,
                                         none="hold out every 10th training sentence")
        tok, name, threads = _common("cls", CLS_TOKENIZER)
        settings = _classifier_settings()
        go = st.form_submit_button("Start training", type="primary")
    if not go:
        return None
    return ({"task": "classifier", "train_id": train_id, "dev_id": dev_id if dev_id != train_id else None,
             "tokenizer": tok, "threads": threads, **settings}, name)
