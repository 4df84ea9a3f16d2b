"""Issue 6's concurrency and restart promises with a real server and real
browsers (the AppTest stand-ins are test_reliability_concurrency.py and
test_reliability_faults.py).

A real `streamlit run app.py` on a free port with its own workspace (two
samples and one trained model, seeded through the engine API), driven by
Python Playwright in Debian's headless Chromium:

1. Sessions: two browser contexts (two users) each start a training run from
   the Train page's form with their own settings, while a third context tags a
   sentence on the Demo page. The Demo's entities (text, type, offsets) equal
   the engine's prediction computed in this process; both runs overlap in time,
   finish, each session's page shows its own run, and each run registers its
   own model with its own settings. (The Demo step also keeps a user's first
   edit: the page once replaced it by its example, reading its own share link
   back as a new shared text.)
2. Restart: a third run goes on while the server is killed (SIGKILL to its
   process group) and a new server is started on the same workspace and port.
   The Train page in a new context shows the run's true state (compared with
   the workspace at that moment: running, or done if it ended), follows it to
   done, the run finishes every epoch and registers its model, and the
   workspace passes `PRAGMA integrity_check`.
"""
import re
import sqlite3
import time
from urllib.parse import urlencode

import pytest

from e2e_support import T, Server, require_browser
DEMO_TEXT = "김민준 기자는 3일 서울에서 열린 회의에 참석했다."
DEMO_MODEL = {"tokenizer": "char", "model": {"hidden_size": 32, "num_layers": 1, "embedding_dim": 32},
              "train": {"epochs": 15, "batch_size": 4, "lr": 5e-3, "patience": 15}, "threads": 1}
# what each user types into the Train form: small models, enough epochs that the two runs overlap
USERS = {"user A": {"Hidden size (per direction)": 16, "Token embedding": 16, "Layers": 1, "Epochs": 80,
                    "Early-stopping patience (epochs)": 80, "Batch size": 8, "Seed": 1, "CPU threads": 1},
         "user B": {"Hidden size (per direction)": 24, "Token embedding": 16, "Layers": 1, "Epochs": 80,
                    "Early-stopping patience (epochs)": 80, "Batch size": 8, "Seed": 2, "CPU threads": 1}}
# the run the server restart happens under: long enough (~30 s alone) to outlive a restart
LONG = {"Hidden size (per direction)": 64, "Token embedding": 32, "Layers": 1, "Epochs": 150,
        "Early-stopping patience (epochs)": 150, "Batch size": 2, "Seed": 3, "CPU threads": 1}
STATUS = re.compile(r"(queued|running|done|failed|cancelled|interrupted) · run (r-[0-9a-f]+)")

pytestmark = pytest.mark.slow
playwright_api = require_browser()
expect = playwright_api.expect

from tagger.runs import control as runs  # noqa: E402
from tagger.workspace import models as ws_models  # noqa: E402
from tagger.runs.worker import execute  # noqa: E402
from tagger.workspace.store import Workspace  # noqa: E402


@pytest.fixture
def seeded(tmp_path):
    """Two samples and one model trained in this process (15 epochs: it tags DEMO_TEXT)."""
    ws_dir = tmp_path / "workspace"
    ws = Workspace(ws_dir)
    dv, _ = ws.add_sample("ner_klue_dev.tsv")
    tr, _ = ws.add_sample("ner_klue.tsv")  # the newest: the Train form's default training data
    rid = runs.create_run(ws, dict(DEMO_MODEL, train_id=tr["id"], dev_id=dv["id"]), name="demo model")
    assert execute(ws, rid) == 0
    return ws, runs.run(ws, rid)["model_id"]


@pytest.fixture
def server(seeded, tmp_path):
    ws, _ = seeded
    srv = Server(ws.root, tmp_path)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
        for r in runs.runs(ws):  # never leave a training process behind
            if r["status"] in runs.ACTIVE:
                runs.cancel_run(ws, r["id"])


def _idle(page):
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_timeout(300)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=T)


def _open(browser, url, path, title):
    """A new browser context (a new user: own cookies, own Streamlit session) on one page."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(f"{url}/{path}")
    expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=T)
    _idle(page)
    _close_not_found(page)
    return ctx, page


def _close_not_found(page) -> None:
    """Streamlit quirk (streamlit/streamlit#9992): the first direct load of a page URL on a fresh
    server also shows a "Page not found" dialog over the right page; close it as a user would."""
    dialog = page.get_by_role("dialog").filter(has_text="Page not found")
    if dialog.count():
        dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_have_count(0, timeout=T)


def _fill_form(page, name: str, settings: dict) -> None:
    _close_not_found(page)
    expect(page.get_by_role("combobox", name="Training data")).to_have_value(
        re.compile(r"^ner_klue\.tsv · klue · 28 sentences"), timeout=T)
    page.get_by_label("Dev data (picks epochs; never the evaluation file)", exact=True).click()
    page.get_by_role("option", name=re.compile(r"^ner_klue_dev\.tsv")).click()
    page.get_by_label("Run name (optional)", exact=True).fill(name)
    for label, value in settings.items():
        box = page.get_by_label(label, exact=True)
        box.fill(str(value))
        box.press("Tab")


def _start(ws, page) -> str:
    """Submit the form; the id of the new run the page then shows (any run it showed before is older)."""
    older = {r["id"] for r in runs.runs(ws)}
    page.get_by_role("button", name="Start training", exact=True).click()
    shown = page.get_by_text(re.compile(r"(queued|running|done) · run r-[0-9a-f]+"))
    for rid in older:
        shown = shown.filter(has_not_text=rid)
    expect(shown.first).to_be_visible(timeout=T)
    rid = re.search(r"r-[0-9a-f]+", shown.first.inner_text()).group()
    assert rid in {r["id"] for r in runs.runs(ws)} - older
    return rid


def _shown_status(page, rid: str) -> str:
    """The status the page's run panel shows for ``rid``."""
    panel = page.get_by_text(re.compile(rf"(queued|running|done|failed|cancelled|interrupted) · run {rid}"))
    expect(panel.first).to_be_visible(timeout=T)
    return STATUS.search(panel.first.inner_text()).group(1)


def _entities_shown(page) -> list[tuple]:
    """(text, type, start, end) of each highlighted entity, offsets rebuilt from the page's
    HTML (text nodes and each <mark>'s own text; its <sup> is the type)."""
    tagged = page.locator("div.tagged")
    expect(tagged).to_have_count(1, timeout=T)
    text, spans = tagged.evaluate("""el => {
        let pos = 0, text = ""; const spans = [];
        for (const n of el.childNodes) {
            if (n.nodeType === Node.TEXT_NODE) { text += n.textContent; pos += n.textContent.length; }
            else if (n.matches("mark.ent")) {
                const t = n.firstChild.textContent, label = n.querySelector("sup").textContent;
                spans.push([t, label, pos, pos + t.length]); text += t; pos += t.length;
            }
        }
        return [text, spans];
    }""")
    assert text == DEMO_TEXT, f"the Demo shows {text!r}"
    return [tuple(s) for s in spans]


def _integrity_ok(ws) -> None:
    conn = sqlite3.connect(str(ws.db_path))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def _wait_running(ws, rid, timeout=90) -> dict:
    """Until the run has finished at least one epoch (it is training, not starting)."""
    end = time.time() + timeout
    while time.time() < end:
        r = runs.run(ws, rid)
        if r["status"] != "queued" and runs.history(ws, rid):
            return r
        time.sleep(0.1)
    raise AssertionError(f"run {rid} never got through an epoch: {runs.log_lines(ws, rid)}")


def test_two_users_train_a_third_uses_the_demo_and_runs_survive_a_server_restart(seeded, server, browser):
    ws, demo_mid = seeded
    t0 = time.time()
    expected = [(e["text"], e["label"], e["start"], e["end"])
                for e in ws_models.load(ws, demo_mid).predict([DEMO_TEXT])[0]["entities"]]
    assert expected, "the seeded model tags the demo sentence (else the comparison proves little)"

    # --- 1. two users train at once, a third tags a sentence on the Demo -------------------
    users = {name: _open(browser, server.url, "train", "Train") for name in USERS}
    ctx_d, demo = _open(browser, server.url, f"demo?{urlencode({'model': demo_mid})}", "Demo")
    expect(demo.locator("div.tagged").first).to_be_visible(timeout=T)  # the page's example, tagged
    for name, (_, page) in users.items():
        _fill_form(page, name, USERS[name])
    rids = {}
    for name, (_, page) in users.items():
        rids[name] = _start(ws, page)
    assert len(set(rids.values())) == 2
    box = demo.get_by_label("Korean text (one or more sentences)", exact=True)
    box.fill(DEMO_TEXT)
    demo.get_by_role("button", name="Tag", exact=True).click()
    expect(demo.locator("div.tagged").first).to_contain_text("참석했다", timeout=T)
    _idle(demo)
    statuses_at_demo = {name: runs.run(ws, rid)["status"] for name, rid in rids.items()}
    assert _entities_shown(demo) == expected
    assert any(s in runs.ACTIVE for s in statuses_at_demo.values()), \
        f"the Demo answered while a run was training: {statuses_at_demo}"
    ctx_d.close()

    for name, (ctx, page) in users.items():
        # each session follows its own run to the end (the panel refreshes itself) ...
        expect(page.get_by_text(re.compile(rf"done · run {rids[name]}")).first).to_be_visible(timeout=180_000)
        other = next(rid for n, rid in rids.items() if n != name)
        expect(page.get_by_text(re.compile(rf"· run {other}"))).to_have_count(0)  # ... and not the other's
    done = {name: runs.wait(ws, rid, timeout=60) for name, rid in rids.items()}
    a, b = done["user A"], done["user B"]
    assert a["created"] < b["finished"] and b["created"] < a["finished"], "the two runs overlapped"
    models = {m["id"]: m for m in ws_models.models(ws)}
    for name, r in done.items():
        assert r["status"] == "done" and r["error"] is None, (name, r["status"], r["error"])
        assert r["name"] == name and models[r["model_id"]]["run_id"] == r["id"]
        assert r["config"]["model"]["hidden_size"] == USERS[name]["Hidden size (per direction)"]
        assert r["config"]["train"]["seed"] == USERS[name]["Seed"]
        assert len(runs.history(ws, r["id"])) == USERS[name]["Epochs"]
    assert a["model_id"] != b["model_id"]
    t_sessions = time.time() - t0

    # --- 2. the server is killed and restarted while a run goes on ---------------------------
    ctx_a, page = users.pop("user A")
    for ctx, _ in users.values():
        ctx.close()
    _fill_form(page, "restart", LONG)
    rid = _start(ws, page)
    assert rid not in rids.values()
    before_kill = _wait_running(ws, rid)
    expect(page.get_by_text(re.compile(rf"running · run {rid}")).first).to_be_visible(timeout=T)
    server.kill()
    ctx_a.close()
    epochs_at_kill = len(runs.history(ws, rid))
    assert epochs_at_kill < LONG["Epochs"], "the run was still training when the server died"
    t_kill = time.time()
    server.start()
    ctx, page = _open(browser, server.url, "train", "Train")
    before = runs.run(ws, rid)["status"]
    shown = _shown_status(page, rid)  # the newest run: the one the panel shows first
    after = runs.run(ws, rid)["status"]
    assert shown in (before, after), f"page shows {shown}, workspace said {before} then {after}"
    assert shown in ("running", "done"), f"the run did not survive the server: {shown}"
    if shown == "running":  # the restarted server follows it live to the end
        expect(page.get_by_text(re.compile(rf"done · run {rid}")).first).to_be_visible(timeout=180_000)
    r = runs.wait(ws, rid, timeout=60)
    assert r["status"] == "done" and r["error"] is None and r["pid"] == before_kill["pid"]
    assert len(runs.history(ws, rid)) == LONG["Epochs"], "every epoch ran, in the one process"
    assert ws_models.model_row(ws, r["model_id"])["run_id"] == rid
    _integrity_ok(ws)
    ctx.close()
    print(f"\nsessions {t_sessions:.1f}s; restart: killed at epoch {epochs_at_kill}/{LONG['Epochs']}, "
          f"page after restart showed {shown} ({time.time() - t_kill:.1f}s to done); "
          f"total {time.time() - t0:.1f}s")
