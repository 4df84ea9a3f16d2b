"""Train: the settings form (measured-best defaults) of a tagger, a language
model or a sentence classifier, background runs with live progress, the run
list, and models of every kind in and out (zip import/download, delete)."""
import pandas as pd
import streamlit as st

from tagger import TaggerError
from tagger.runs import control as runs
from tagger.runs.tasks import task_of
from tagger.workspace import models as ws_models
from ui import forms, pickers, shell
from ui.run_panel import run_panel

ws = shell.page("Train")


TASKS = {"tagger": "NER tagger", "lm": "Language model", "classifier": "Sentence classifier"}


def start_form() -> None:
    st.subheader("New run")
    task = st.radio("Task", list(TASKS), format_func=TASKS.get, horizontal=True, key="train_task")
    st.caption(f"Device here: **{ws_models.device_summary()}**")
    form = {"lm": forms.lm_form, "classifier": forms.classifier_form}.get(task, forms.tagger_form)
    started = form(ws)
    if started:
        try:
            st.session_state["run"] = runs.start_run(ws, started[0], name=started[1])
        except TaggerError as err:
            shell.fail(err)


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
    run_panel(ws, rid)
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
                                    "tokenizer": m["tokenizer"], "held-out score": pickers.model_score(m),
                                    "types / labels": " ".join((m["summary"] or {}).get("types")
                                                               or (m["summary"] or {}).get("labels") or [])}
                                   for m in ms]), hide_index=True, width="stretch")
        mid = pickers.pick_model(ws, "Model", key="model", kinds=None)
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
            shell.fail(err)


if not ws.datasets():
    st.info("No dataset yet: add one on the Data page first.")
    shell.link("app_pages/1_data.py", "Go to Data", ":material/description:")
else:
    start_form()
run_list()
models_section()
