"""A tiny Streamlit script for the span editor's browser tests (not an app page).

$SPAN_EDITOR_INPUT: a JSON file ``{"labels": [...], "sentences": [{"text",
"granularity" ("char"|"word"), "spans": [[start, end, label], ...],
"model_spans": [...] or null}]}``. $SPAN_EDITOR_STORE: the JSON file this app
writes (atomically) after every action: ``{"<sentence index>": {"spans":
[[start, end, label], ...], "status": "pending|edited|accepted|corrected|skipped"}}``.
$SPAN_EDITOR_MODE=return uses the returned action and ``st.rerun()`` instead of
the ``on_action`` callback.
"""
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import streamlit as st  # noqa: E402

from tagger.core.units import units as units_of  # noqa: E402
from ui.span_editor import span_editor  # noqa: E402

INPUT = Path(os.environ["SPAN_EDITOR_INPUT"])
STORE = Path(os.environ["SPAN_EDITOR_STORE"])
CORPUS = json.loads(INPUT.read_text(encoding="utf-8"))
SENTENCES, LABELS = CORPUS["sentences"], CORPUS["labels"]


def write_store(store: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=STORE.parent, prefix=".store-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(store, f, ensure_ascii=False)
    os.replace(tmp, STORE)


def read_store() -> dict:
    if not STORE.exists():
        write_store({str(i): {"spans": s["spans"], "status": "pending"} for i, s in enumerate(SENTENCES)})
    return json.loads(STORE.read_text(encoding="utf-8"))


def edit(entry: dict, sentence: dict, action: dict) -> None:
    spans, name = [list(s) for s in entry["spans"]], action["action"]
    if name == "label":
        start, end = action["start"], action["end"]
        spans = [s for s in spans if not (s[0] < end and start < s[1])] + [[start, end, action["label"]]]
    elif name == "retype":
        spans[action["index"]][2] = action["label"]
    elif name == "remove":
        del spans[action["index"]]
    elif name == "take_model":
        spans = [list(s) for s in sentence.get("model_spans") or []]
    entry["spans"], entry["status"] = sorted(spans), "edited"


def apply(action: dict) -> None:
    ss, store = st.session_state, read_store()
    pos, name = ss.pos, action["action"]
    if name == "undo":
        if ss.history:
            p, old, ss.pos = ss.history.pop()
            store[str(p)] = old
            write_store(store)
        return
    if name in ("next", "prev"):
        ss.pos = max(0, min(len(SENTENCES) - 1, pos + (1 if name == "next" else -1)))
        return
    entry = store[str(pos)]
    ss.history.append((pos, json.loads(json.dumps(entry)), pos))
    if name in ("accept", "skip"):
        same = sorted(map(list, SENTENCES[pos]["spans"])) == sorted(map(list, entry["spans"]))
        entry["status"] = "skipped" if name == "skip" else ("accepted" if same else "corrected")
        ss.pos = min(len(SENTENCES) - 1, pos + 1)
    else:
        edit(entry, SENTENCES[pos], action)
    write_store(store)


def main() -> None:
    ss = st.session_state
    ss.setdefault("pos", 0)
    ss.setdefault("history", [])
    ss.setdefault("log", [])
    store = read_store()
    pos = ss.pos
    sentence, entry = SENTENCES[pos], store[str(pos)]
    gran = sentence.get("granularity", "char")
    mode_return = os.environ.get("SPAN_EDITOR_MODE") == "return"
    action = span_editor(
        sentence["text"], units_of(sentence["text"], gran), [tuple(s) for s in entry["spans"]],
        model_spans=sentence.get("model_spans"), labels=LABELS, key="editor", granularity=gran,
        on_action=None if mode_return else apply,
        caption=f"sentence {pos + 1} / {len(SENTENCES)} · {entry['status']}")
    if action is not None:
        ss.log.append(action)
        if mode_return:
            apply(action)
            st.rerun()
    st.text_input("Notes (keys typed here stay here)", key="notes")
    st.caption(f"actions: {len(ss.log)}")


main()
