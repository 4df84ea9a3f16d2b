"""Landing page of the Korean sequence-tagging workbench and the app's
navigation (``streamlit run app.py``): what the workbench does, the workspace
at a glance and a one-click first run on the bundled sample."""
import streamlit as st

from tagger import TaggerError
from tagger.runs import control as runs
from tagger.workspace import datasets as ws_data, models as ws_models
from tagger.workspace.evaluation import evaluation, report_rows
from ui import pickers, shell
from ui.review_status import home_progress
from ui.run_panel import run_panel
from ui.tables import report_table, rows_table

QUICK_TRAIN, QUICK_DEV = "ner_klue.tsv", "ner_klue_dev.tsv"

shell.setup()


def quick_start(ws) -> str:
    """Sample → char tokenization → a small background run; returns the run id."""
    train, _ = ws.add_sample(QUICK_TRAIN)
    dev, _ = ws.add_sample(QUICK_DEV)
    ws_data.tokenize_dataset(ws, train["id"], "char", dev_id=dev["id"])
    config = dict(runs.QUICK, train_id=train["id"], dev_id=dev["id"])
    return runs.start_run(ws, config, name="quick start · sample")


def glance(ws) -> None:
    s = ws.summary()
    c = st.columns(4)
    c[0].metric("datasets", s["datasets"])
    c[1].metric("training runs", s["runs"])
    c[2].metric("models", s["models"])
    c[3].metric("corrected sentences", s["corrected_sentences"])
    left, right = st.columns(2)
    with left:
        st.caption("latest datasets")
        rows = [{"dataset": d["name"], "format": d["format"], "sentences": d["stats"]["sentences"],
                 "id": d["id"]} for d in ws.datasets()[:5]]
        rows_table(rows)
    with right:
        st.caption("latest runs")
        rows = [{"run": r["name"], "status": r["status"],
                 "model": r["model_id"], "id": r["id"]} for r in runs.runs(ws)[:5]]
        rows_table(rows)
    home_progress(ws)


def quick_report(ws, run: dict) -> None:
    if run["status"] != "done" or not run.get("model_id"):
        return
    dev_id = run["config"].get("dev_id")
    try:
        ev = evaluation(ws, run["model_id"], dev_id)
    except TaggerError as err:
        shell.fail(err)
        return
    st.subheader(f"Report on {ws.dataset(dev_id)['name']}: entity F1 {ev['entity_f1']:.3f}")
    report_table(report_rows(ev))
    st.session_state["model"] = run["model_id"]
    st.session_state["dataset"] = dev_id
    cols = st.columns(3)
    shell.link("app_pages/3_evaluate.py", "Full evaluation", ":material/analytics:", cols[0])
    shell.link("app_pages/4_review.py", "Review and correct", ":material/edit_note:", cols[1])
    shell.link("app_pages/5_demo.py", "Try it on your text", ":material/chat:", cols[2])


def quick_section(ws) -> None:
    st.header("First time here? One click")
    st.write("Loads the bundled KLUE-style sample (28 training and 8 dev sentences written for this "
             "project), tokenizes it by character, trains a small BiLSTM-CRF in the background "
             "(hidden 128, one layer, well under a minute on two CPU cores) and shows the report.")
    if st.button("Quick start: sample → tokenize → train → report", type="primary", icon=":material/play_arrow:"):
        try:
            st.session_state["quick_run"] = quick_start(ws)
        except TaggerError as err:
            shell.fail(err)
    quick = [r for r in runs.runs(ws) if r["name"].startswith("quick start")]
    rid = st.session_state.get("quick_run") or (quick[0]["id"] if quick else None)
    if rid:
        try:
            run_panel(ws, rid)
            quick_report(ws, runs.run(ws, rid))
        except TaggerError as err:
            shell.fail(err)


def landing() -> None:
    st.title("Korean sequence-tagging workbench")
    st.markdown(
        "Upload a Korean corpus (KLUE character-level, CoNLL, `sentence<TAB>tags`, plain text), "
        "validate it, tokenize it with **Kkma** morphemes aligned to the original characters (or by "
        "character or word), train a BiLSTM/GRU(-CRF) tagger in the background, read its seqeval "
        "report, review and correct its predictions, export the corrected corpus, and share a demo link.")
    ws = shell.workspace()
    if shell.readonly():
        st.info("Read-only demo server: try the models on the **Demo** page.")
        rows_table([{"model": m["name"], "id": m["id"], "kind": m["kind"], "tokenizer": m["tokenizer"],
                 "held-out score": pickers.model_score(m)} for m in ws_models.models(ws)])
        return
    glance(ws)
    quick_section(ws)
    st.caption(f"Workspace: everything above is kept in the workspace folder "
               f"(TAGGER_WORKSPACE); bundled samples: {', '.join(ws.samples())}.")


shell.navigate(landing)
