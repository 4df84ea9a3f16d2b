"""Data: upload or pick a sample, the validation report, statistics,
tokenization with coverage and aligned examples, split, pre-annotate, delete."""
import pandas as pd
import streamlit as st

from tagger import TaggerError
from tagger.workspace import datasets as ws_data
from tagger.workspace.annotate import LABELLED, preannotate
from ui import options, pickers, shell

ws = shell.page("Data")


def _add_upload(f, fmt: str, enc: str) -> tuple[str, str]:
    try:
        d, created = ws.add_dataset(f.name, f.getvalue(), format=None if fmt == "auto" else fmt,
                                    encoding=None if enc == "auto" else enc)
    except TaggerError as err:
        return "error", f"{f.name}: {err}"
    st.session_state["dataset"] = d["id"]
    return ("success", f"{d['name']}: added as {d['id']}") if created else \
        ("info", f"{d['name']}: already in the workspace as {d['id']}")


def add_section() -> None:
    up, sample = st.columns([3, 2])
    with up:
        fmt = st.selectbox("Format", ["auto"] + list(options.FORMATS), help="auto-detected unless you pick one")
        enc = st.selectbox("Encoding", ["auto", "utf-8", "cp949", "euc-kr"])
        files = st.file_uploader("Upload corpus files (TSV, CoNLL, text)", accept_multiple_files=True,
                                 help="Kept byte for byte in the workspace; never modified. "
                                      f"{options.upload_limit_text()}")
        seen = st.session_state.setdefault("_uploads", {})
        for f in files or []:
            if f.file_id not in seen:
                seen[f.file_id] = _add_upload(f, fmt, enc)
            kind, text = seen[f.file_id]
            getattr(st, kind)(text)
    with sample:
        name = st.selectbox("…or a bundled sample", ws.samples())
        if st.button("Add sample", disabled=not name):
            d, _ = ws.add_sample(name)
            st.session_state["dataset"] = d["id"]


def report_section(did: str, d: dict) -> None:
    rep = ws_data.report(ws, did)
    st.subheader("Validation report")
    st.caption(f"format **{rep['format']}** · encoding **{rep['encoding']}** · {d['size']:,} bytes · "
               f"sha256 {d['sha256'][:12]}… · from {d['source']}")
    c = st.columns(5)
    c[0].metric("sentences", rep["sentences"])
    c[1].metric("tokens", rep["tokens"])
    c[2].metric("entities", sum(rep["entities"].values()))
    c[3].metric("errors", rep["errors"])
    c[4].metric("warnings", rep["warnings"])
    if rep["problem_rows"]:
        (st.error if rep["errors"] else st.warning)(
            f"{len(rep['problem_rows'])} problem(s); each names the file line and shows it:")
        st.dataframe(pd.DataFrame(rep["problem_rows"]), hide_index=True, width="stretch")
    else:
        st.success("No problems found.")


def stats_section(did: str) -> None:
    s = ws_data.statistics(ws, did)
    st.subheader("Statistics")
    left, right = st.columns(2)
    with left:
        counts = s["entities"] or s["labels"]
        st.caption("entities per type" if s["entities"] else "labels")
        if counts:
            st.bar_chart(pd.DataFrame({"count": counts}), height=240)
        else:
            st.write("no entities (unlabelled text)")
    with right:
        st.caption(f"sentence length in characters (mean {s['mean_length']:.1f}, max {s['max_length']})")
        hist = pd.DataFrame(s["length_hist"])
        if not hist.empty:
            st.bar_chart(hist, x="length", y="sentences", height=240, sort=False)


def tokenize_section(did: str) -> None:
    st.subheader("Tokenize")
    a, b = st.columns(2)
    tok = a.selectbox("Tokenizer", options.TOKENIZERS, index=options.TOKENIZERS.index(options.DEFAULT_TOKENIZER),
                      help="kkma: morphemes aligned to the text (first use starts Kkma, ~5 s)")
    with b:
        dev = pickers.pick_dataset(ws, "Dev set for the OOV rate", key="tok_dev", none="hold out every 10th sentence")
    if st.button("Tokenize", type="primary"):
        bar = st.progress(0.0, text=f"tokenizing with {tok}…")
        try:
            res = ws_data.tokenize_dataset(ws, did, tok, dev_id=dev if dev != did else None,
                                           progress=lambda d_, t: bar.progress(d_ / max(t, 1),
                                                                               text=f"tokenizing {d_}/{t}"))
            st.session_state["tok_result"] = (did, res)
        except TaggerError as err:
            shell.fail(err)
        bar.empty()
    done = st.session_state.get("tok_result")
    if done and done[0] == did:
        show_tokenization(done[1])
    rows = [{"tokenizer": t["tokenizer"], "coverage": t["stats"]["coverage"]["coverage"],
             "vocabulary": t["stats"]["vocab_size"], "dev OOV rate": t["stats"]["dev_oov_rate"],
             "fallbacks": t["stats"]["fallbacks"], "seconds": t["stats"]["seconds"]} for t in ws.tokenizations(did)]
    if rows:
        st.caption("tokenizations of this dataset")
        st.dataframe(pd.DataFrame(rows), hide_index=True)


def show_tokenization(res: dict) -> None:
    cov = res["coverage"]
    c = st.columns(5)
    c[0].metric("entity boundary coverage", f"{cov['coverage']:.1%}", help=f"{cov['covered']}/{cov['entities']}")
    c[1].metric("vocabulary", f"{res['vocab_size']:,}")
    c[2].metric("dev OOV rate", "–" if res["dev_oov_rate"] is None else f"{res['dev_oov_rate']:.1%}",
                help=f"dev: {res['dev']}")
    c[3].metric("fallbacks", res["fallbacks"])
    c[4].metric("seconds", res["seconds"], help=f"{res['cache_hits']} sentences from the cache")
    if res["fallback_examples"]:
        st.dataframe(pd.DataFrame(res["fallback_examples"]), hide_index=True)
    st.caption(f"aligned examples ({res['tokenizer']}): token, analyser form and POS, gold tag")
    for ex in res["examples"]:
        st.text(ex["text"])
        df = pd.DataFrame(ex["rows"]).drop(columns=["start", "end"])
        df = df.loc[:, [c for c in df.columns if (df[c] != "").any()]]  # char units have no form/POS
        st.dataframe(df.T, width="stretch")


def tools_section(did: str, d: dict) -> None:
    with st.expander("Split into train and dev"):
        frac = st.slider("dev share", 0.05, 0.5, 0.1, 0.05)
        seed = st.number_input("seed", 0, 10_000, 1)
        if st.button("Split"):
            try:
                tr, dv = ws_data.split_dataset(ws, did, frac, int(seed))
                st.success(f"created {tr['name']} ({tr['id']}) and {dv['name']} ({dv['id']})")
            except TaggerError as err:
                shell.fail(err)
    with st.expander("Pre-annotate with a model (the annotation loop)"):
        mid = pickers.pick_model(ws, key="pre_model", none="(no model yet)")
        fmt = st.selectbox("Write as", LABELLED)
        if st.button("Tag every sentence", disabled=mid is None):
            try:
                new = preannotate(ws, did, mid, fmt)
                st.session_state["dataset"] = new["id"]
                st.success(f"created {new['name']} ({new['id']}): review and correct it on the Review page")
            except TaggerError as err:
                shell.fail(err)
    with st.expander("Delete this dataset"):
        sure = st.checkbox(f"Yes, delete {d['name']} and its corrections")
        if st.button("Delete dataset", disabled=not sure):
            ws.delete_dataset(did)
            st.session_state.pop("dataset", None)
            st.rerun()


add_section()
did = pickers.pick_dataset(ws)
if did is None:
    st.info("No dataset yet: upload a file or add a bundled sample.")
    st.stop()
dataset = ws.dataset(did)
report_section(did, dataset)
stats_section(did)
tokenize_section(did)
tools_section(did, dataset)
