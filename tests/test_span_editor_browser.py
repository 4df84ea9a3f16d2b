"""The span editor in a real browser: `streamlit run tests/apps/span_editor_app.py`
on a free port, driven by Playwright in Debian's headless Chromium. Every test
asserts on the code-point offsets the app stored (its JSON store file).

The component renders into an open shadow root (components v2,
``isolate_styles=True``) inside ``[data-testid=stBidiComponentIsolated]``;
Playwright's CSS locators pierce open shadow roots, so ``.se-main [data-u]``
finds the units.
"""
import json
import os
import subprocess
import sys
import time
import unicodedata
import urllib.request
from pathlib import Path

import pytest

from e2e_support import ROOT, T, drag_units, free_port, require_browser, unit_centre

pytestmark = pytest.mark.slow
playwright_api = require_browser()
expect = playwright_api.expect
APP = "tests/apps/span_editor_app.py"
LABELS = ["PS", "LC", "OG"]
UNITS = ".se-main [data-u]"
VIEWPORT = (1200, 900)  # the page fixture's (conftest)


class EditorApp:
    """The test app on its own port, its input and store files in a temp folder."""

    def __init__(self, folder: Path, mode: str = ""):
        self.input, self.store, self.port = folder / "input.json", folder / "store.json", free_port()
        self.url, self.log, self.mode, self.proc = f"http://127.0.0.1:{self.port}", folder / "st.log", mode, None

    def start(self):
        env = dict(os.environ, SPAN_EDITOR_INPUT=str(self.input), SPAN_EDITOR_STORE=str(self.store),
                   SPAN_EDITOR_MODE=self.mode, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", APP, "--server.port", str(self.port),
                 "--server.address", "127.0.0.1", "--server.headless", "true",
                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        end = time.time() + 90
        while time.time() < end:
            if self.proc.poll() is not None:
                pytest.fail(f"streamlit exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        pytest.fail("streamlit did not become healthy in time")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def load(self, sentences, labels=LABELS):
        """New sentences for the next browser session (the script reads them every run)."""
        self.store.unlink(missing_ok=True)
        self.input.write_text(json.dumps({"labels": labels, "sentences": sentences}, ensure_ascii=False),
                              encoding="utf-8")

    def stored(self) -> dict:
        return json.loads(self.store.read_text(encoding="utf-8")) if self.store.exists() else {}

    def wait_store(self, pred, what: str, timeout: float = 30) -> dict:
        end = time.time() + timeout
        while time.time() < end:
            try:
                store = self.stored()
                if pred(store):
                    return store
            except (ValueError, KeyError, IndexError):
                pass
            time.sleep(0.1)
        pytest.fail(f"store never showed {what}: {self.stored()}")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    srv = EditorApp(tmp_path_factory.mktemp("span-editor"))
    srv.input.write_text(json.dumps({"labels": LABELS, "sentences": [{"text": "x", "spans": []}]}))
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def s(text, spans=(), gran="char", model=None):
    return {"text": text, "granularity": gran, "spans": [list(x) for x in spans], "model_spans": model}


def open_editor(page, app):
    page.goto(app.url)
    expect(page.locator(UNITS).first).to_be_visible(timeout=T)
    expect(page.locator(".se-root")).to_have_attribute("aria-busy", "false", timeout=T)


def settled(page):
    """The editor has its acknowledged view (no action in flight)."""
    expect(page.locator(".se-root")).to_have_attribute("aria-busy", "false", timeout=T)




def caption(page) -> str:
    return page.locator(".se-caption").inner_text()


def test_drag_over_hangul_and_press_2_stores_code_point_span(app, page):
    text = "김철수는 서울에 산다."
    app.load([s(text, [(0, 3, "PS")])])
    open_editor(page, app)
    assert [page.locator(UNITS).nth(i).inner_text() for i in (5, 6)] == ["서", "울"]
    drag_units(page, 5, 6)
    expect(page.locator(".se-status")).to_contain_text("서울")
    page.keyboard.press("2")  # no click first: the editor took focus itself
    store = app.wait_store(lambda st: len(st["0"]["spans"]) == 2, "the new span")
    assert store["0"]["spans"] == [[0, 3, "PS"], [5, 7, "LC"]]
    assert text[5:7] == "서울"
    settled(page)
    expect(page.locator(".se-main .se-ent")).to_have_count(2)


def test_emoji_before_the_entity(app, page):
    text = "😀 이순신 장군"
    app.load([s(text)])
    open_editor(page, app)
    assert page.locator(UNITS).nth(0).inner_text() == "😀"
    drag_units(page, 2, 4)
    page.keyboard.press("1")
    store = app.wait_store(lambda st: st["0"]["spans"], "the span")
    start, end, label = store["0"]["spans"][0]
    assert (start, end, label) == (2, 5, "PS") and text[start:end] == "이순신"


def test_nfd_jamo_each_code_point_is_a_unit(app, page):
    text = unicodedata.normalize("NFD", "서울에 간다")
    seoul = unicodedata.normalize("NFD", "서울")
    assert len(seoul) == 5
    app.load([s(text)])
    open_editor(page, app)
    expect(page.locator(UNITS)).to_have_count(len(text))
    drag_units(page, 0, 4)
    page.keyboard.press("2")
    store = app.wait_store(lambda st: st["0"]["spans"], "the span")
    start, end, label = store["0"]["spans"][0]
    assert (start, end, label) == (0, 5, "LC")
    assert text[start:end] == seoul


def test_word_units_double_click_and_drag_over_tabs_and_spaces(app, page):
    text = "EU  rejects\tGerman call"
    app.load([s(text, [(0, 2, "OG")], gran="word")])
    open_editor(page, app)
    expect(page.locator(UNITS)).to_have_count(4)
    page.mouse.dblclick(*unit_centre(page, 2))
    expect(page.locator(".se-status")).to_contain_text("German")
    page.keyboard.press("3")
    store = app.wait_store(lambda st: len(st["0"]["spans"]) == 2, "the word span")
    assert store["0"]["spans"][1] == [12, 18, "OG"] and text[12:18] == "German"
    settled(page)
    drag_units(page, 1, 2)
    page.keyboard.press("2")
    store = app.wait_store(lambda st: [4, 18, "LC"] in st["0"]["spans"], "the two-word span")
    assert text[4:18] == "rejects\tGerman"
    assert store["0"]["spans"] == [[0, 2, "OG"], [4, 18, "LC"]]


def test_char_units_double_click_selects_the_word(app, page):
    text = "어제 대한민국에서"
    app.load([s(text)])
    open_editor(page, app)
    page.mouse.dblclick(*unit_centre(page, 5))
    expect(page.locator(".se-status")).to_contain_text("대한민국에서")
    page.keyboard.press("2")
    store = app.wait_store(lambda st: st["0"]["spans"], "the span")
    assert store["0"]["spans"] == [[3, 9, "LC"]]


def _ten_sentences():
    """(sentence, keys, expected spans, expected status) x 10: even ones accepted
    as they are, odd ones given a new span by keyboard and then accepted."""
    out = []
    for i in range(10):
        name = ["김철수", "이영희", "박민수", "최지우", "정우성"][i % 5]
        text = f"{name}는 {i + 1}월에 부산에 갔다."
        busan = text.index("부산")
        gold = [(0, 3, "PS")]
        if i % 2 == 0:
            out.append((s(text, gold), ["Enter"], [[0, 3, "PS"]], "accepted"))
        else:
            keys = ["Home"] + ["ArrowRight"] * busan + ["Shift+ArrowRight"] + ["2", "Enter"]
            out.append((s(text, gold), keys, [[0, 3, "PS"], [busan, busan + 2, "LC"]], "corrected"))
    return out


def test_keyboard_only_review_of_ten_sentences(app, page):
    plan = _ten_sentences()
    app.load([p[0] for p in plan])
    open_editor(page, app)
    latencies = []
    for i, (_, keys, _, _) in enumerate(plan):
        expect(page.locator(".se-caption")).to_contain_text(f"sentence {i + 1} / 10", timeout=T)
        for key in keys:
            page.keyboard.press(key)  # no waiting: keys typed ahead are queued and replayed
        if i < 9:
            expect(page.locator(".se-caption")).to_contain_text(f"sentence {i + 2} / 10", timeout=T)
        settled(page)
        latencies.append(int(page.locator(".se-root").get_attribute("data-latency-ms") or 0))
    store = app.wait_store(lambda st: all(st[str(i)]["status"] != "pending" for i in range(10)), "all reviewed")
    for i, (sent, _, spans, status) in enumerate(plan):
        assert store[str(i)] == {"spans": spans, "status": status}, (i, sent["text"])
        for a, b, _ in spans[1:]:
            assert sent["text"][a:b] == "부산"
    print(f"\nkey -> acknowledged view, ms (last action per sentence): {latencies}")
    assert page.dialogs == []


def test_ctrl_z_undoes_the_last_edit_and_other_inputs_keep_their_keys(app, page):
    text = "김철수는 서울에 산다."
    app.load([s(text, [(0, 3, "PS")], model=[[0, 3, "PS"], [5, 7, "LC"]]), s("둘째 문장")])
    open_editor(page, app)
    page.keyboard.press("m")  # take the model's entities
    store = app.wait_store(lambda st: len(st["0"]["spans"]) == 2, "the model's spans")
    assert store["0"] == {"spans": [[0, 3, "PS"], [5, 7, "LC"]], "status": "edited"}
    settled(page)
    page.locator('.se-main .se-lab[data-ent="0"]').click()  # pick the PS entity, then remove it
    page.keyboard.press("Delete")
    app.wait_store(lambda st: st["0"]["spans"] == [[5, 7, "LC"]], "the removal")
    settled(page)
    page.keyboard.press("Control+z")
    store = app.wait_store(lambda st: st["0"]["spans"] == [[0, 3, "PS"], [5, 7, "LC"]], "the undone removal")
    settled(page)
    page.keyboard.press("Control+z")
    app.wait_store(lambda st: st["0"] == {"spans": [[0, 3, "PS"]], "status": "pending"}, "the original")
    settled(page)
    notes = page.get_by_label("Notes (keys typed here stay here)")
    notes.click()
    notes.type("j2 m")
    notes.press("Enter")
    page.wait_for_timeout(1500)
    assert notes.input_value() == "j2 m"
    assert app.stored()["0"] == {"spans": [[0, 3, "PS"]], "status": "pending"}
    assert "sentence 1 / 2" in caption(page)


def test_html_in_the_text_and_labels_shows_as_text(app, page):
    text = "<img src=x onerror=alert(1)> 홍길동 <script>alert(2)</script>"
    labels = ["<b>PS</b>", "LC"]
    app.load([s(text, [(29, 32, "<b>PS</b>")])], labels=labels)
    open_editor(page, app)
    main = page.locator(".se-main")
    expect(main).to_contain_text("<img src=x onerror=alert(1)>")
    assert main.inner_text().replace("<b>PS</b>", "") == text
    host = page.locator('[data-testid="stBidiComponentIsolated"]')
    assert host.locator("img").count() == 0 and host.locator("b").count() == 0
    assert host.locator("script").count() == 0
    expect(page.locator(".se-chip").first).to_contain_text("<b>PS</b>")
    page.wait_for_timeout(1000)
    assert page.dialogs == []
    drag_units(page, 0, 3)
    page.keyboard.press("2")
    store = app.wait_store(lambda st: len(st["0"]["spans"]) == 2, "the span")
    assert [0, 4, "LC"] in store["0"]["spans"] and text[0:4] == "<img"
    assert page.dialogs == []


def test_return_mode_label_and_undo(browser, tmp_path):
    srv = EditorApp(tmp_path, mode="return")
    srv.load([s("김철수는 서울에 산다.")])
    srv.start()
    context = browser.new_context()
    try:
        pg = context.new_page()
        open_editor(pg, srv)
        drag_units(pg, 0, 2)
        pg.keyboard.press("1")
        pg.keyboard.press("Control+z")  # typed ahead: replayed once the label is acknowledged
        srv.wait_store(lambda st: st["0"]["status"] == "pending" and pg.locator(".se-root").get_attribute(
            "data-ack") == "2", "label then undo", timeout=60)
        settled(pg)
        assert srv.stored()["0"] == {"spans": [], "status": "pending"}
        # the caption is drawn after the editor in the same rerun: wait for it rather than read it at once
        expect(pg.locator("body")).to_contain_text("actions: 2", timeout=T)
    finally:
        context.close()
        srv.stop()
