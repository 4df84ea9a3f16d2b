"""Train: the settings form (measured-best defaults) of a tagger, a language
model or a sentence classifier, background runs with live progress, the run
list, and models of every kind in and out (zip import/download, delete)."""
from dataclasses import asdict

import pandas as pd
import streamlit as st

from ui import forms as app_forms
from ui import base as app_ui
from tagger import TaggerError
from tagger.runs import control as runs
from tagger.workspace import models as ws_models
from tagger.settings import DEFAULT_TOKENIZER
from tagger.models.tagger import TaggerConfig
from tagger.runs.tasks import task_of
from tagger.tokenizers import TOKENIZERS
from tagger.training.tagger import TrainConfig

ws = app_ui.page("Train")
MC, TC = asdict(TaggerConfig()), asdict(TrainConfig())


def model_settings() -> dict:
    a, b, c = st.columns(3)
    return {"rnn_type": a.selectbox("Cell", ["lstm", "gru", "rnn"], index=["lstm", "gru", "rnn"].index(MC["rnn_type"])),
            "num_layers": b.number_input("Layers", 1, 6, MC["num_layers"]),
            "hidden_size": c.number_input("Hidden size (per direction)", 8, 2048, MC["hidden_size"], step=8),
            "embedding_dim": a.number_input("Token embedding", 8, 1024, MC["embedding_dim"], step=8),
            "dropout": b.number_input("Dropout", 0.0, 0.9, MC["dropout"], step=0.05),
            "char_encoder": c.selectbox("Character encoder", ["cnn", "lstm", "none"],
                                        index=["cnn", "lstm", "none"].index(MC["char_encoder"])),
            "bidirectional": a.checkbox("Bidirectional", MC["bidirectional"]),
            "use_crf": b.checkbox("CRF head", MC["use_crf"]),
            "layer_norm": c.checkbox("Layer norm", MC["layer_norm"])}


def train_settings() -> dict:
    a, b, c = st.columns(3)
    return {"epochs": a.number_input("Epochs", 1, 500, TC["epochs"]),
            "batch_size": b.number_input("Batch size", 1, 1024, TC["batch_size"]),
            "lr": c.number_input("Learning rate", 1e-5, 1.0, TC["lr"], format="%.4f", step=1e-4),
            "patience": a.number_input("Early-stopping patience (epochs)", 1, 500, TC["patience"]),
            "seed": b.number_input("Seed", 0, 1_000_000, TC["seed"]),
            "device": c.selectbox("Device", ["auto", "cpu", "cuda"])}


TASKS = {"tagger": "NER tagger", "lm": "Language model", "classifier": "Sentence classifier"}


def start_form() -> None:
    st.subheader("New run")
    task = st.radio("Task", list(TASKS), format_func=TASKS.get, horizontal=True, key="train_task")
    st.caption(f"Device here: **{ws_models.device_summary()}**")
    form = {"lm": app_forms.lm_form, "classifier": app_forms.classifier_form}.get(task, tagger_form)
    started = form(ws)
    if started:
        try:
            st.session_state["run"] = runs.start_run(ws, started[0], name=started[1])
        except TaggerError as err:
            app_ui.fail(err)


def tagger_form(ws):
    with st.form("train"):
        a, b = st.columns(2)
        with a:
            train_id = app_ui.pick_dataset(ws, "Training data", key="dataset")
        with b:
            dev_id = app_ui.pick_dataset(ws, "Dev data (picks epochs; never the evaluation file)",
                                         key="dev", none="hold out every 10th training sentence")
        a, b, c = st.columns(3)
        tok = a.selectbox("Tokenizer", TOKENIZERS, index=TOKENIZERS.index(DEFAULT_TOKENIZER))
        name = b.text_input("Run name (optional)")
        threads = c.number_input("CPU threads", 1, 64, runs.default_threads())
        corrected = st.checkbox("Train on the corrected labels (Review page corrections)", True)
        mc = model_settings()
        tc = train_settings()
        go = st.form_submit_button("Start training", type="primary")
    if not go:
        return None
    return ({"task": "tagger", "train_id": train_id, "dev_id": dev_id if dev_id != train_id else None,
             "tokenizer": tok, "model": mc, "train": tc, "threads": int(threads), "corrected": corrected}, name)


def run_list() -> None:
    rows = runs.runs(ws)
    if not rows:
        return
    st.subheader("Runs")
    table = [{"run": r["id"], "name": r["name"], "task": task_of(r["config"]),
              "status": r["status"], "epoch": (r["progress"] or {}).get("epoch"),
              "dev score": (r["progress"] or {}).get("dev_score", (r["progress"] or {}).get("dev_f1")),
              "device": r["device"], "model": r["model_id"],
              "started": pd.to_datetime(r["created"], unit="s")} for r in rows]
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
    ids = [r["id"] for r in rows]
    current = st.session_state.get("run")
    rid = st.selectbox("Show run", ids, index=ids.index(current) if current in ids else 0,
                       format_func=lambda i: next(f"{r['name']} · {r['status']} · {i}" for r in rows if r["id"] == i))
    st.session_state["run"] = rid
    app_ui.run_panel(ws, rid)
    with st.expander("Delete this run (its model stays)"):
        if st.button("Delete run", disabled=not st.checkbox("Yes, delete the run record and checkpoint")):
            runs.delete_run(ws, rid)
            st.session_state.pop("run", None)
            st.rerun()


def models_section() -> None:
    st.subheader("Models")
    ms = ws_models.models(ws)
    if ms:
        st.dataframe(pd.DataFrame([{"id": m["id"], "kind": m["kind"], "name": m["name"], "source": m["source"],
                                    "tokenizer": m["tokenizer"], "held-out score": app_ui.model_score(m),
                                    "types / labels": " ".join((m["summary"] or {}).get("types")
                                                               or (m["summary"] or {}).get("labels") or [])}
                                   for m in ms]), hide_index=True, width="stretch")
        mid = app_ui.pick_model(ws, "Model", key="model", kinds=None)
        a, b = st.columns(2)
        if a.button("Prepare zip download"):
            data, fname = ws_models.export_zip(ws, mid)
            a.download_button(f"Download {fname}", data, file_name=fname, mime="application/zip")
        with b.popover("Delete model"):
            if st.button("Delete model", disabled=not st.checkbox(f"Yes, delete {mid}")):
                ws_models.delete(ws, mid)
                st.session_state.pop("model", None)
                st.rerun()
    up = st.file_uploader("Import a model (a zip of a model directory from `python -m tagger train`, "
                          "`lm-train` or `classify-train`)",
                          type=["zip"], key="model_zip")
    if up is not None and st.session_state.get("_imported") != up.file_id:
        try:
            m = ws_models.import_zip(ws, up.getvalue(), name=up.name)
            st.session_state["_imported"] = up.file_id
            st.session_state["model"] = m["id"]
            st.success(f"imported as {m['id']}")
        except TaggerError as err:
            app_ui.fail(err)


if not ws.datasets():
    st.info("No dataset yet: add one on the Data page first.")
    app_ui.link("pages/1_Data.py", "Go to Data", ":material/description:")
else:
    start_form()
run_list()
models_section()
