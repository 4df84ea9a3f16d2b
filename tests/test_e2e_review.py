"""The Review page's span editor in a real browser: `streamlit run app.py` on a
free port with a fresh workspace (the bundled KLUE dev and CoNLL samples, and
small KLUE-format datasets written here: an emoji sentence, an NFD sentence,
an ``<img onerror>`` sentence; ten sentences for a keyboard-only pass), driven
by Playwright in Debian's headless Chromium. Every test asserts on the
WORKSPACE the server wrote (``ws.corrections``, ``status.statuses``), not on
the page alone.

The editor renders into an open shadow root inside
``[data-testid=stBidiComponentIsolated]``; Playwright's CSS locators pierce it.
"""
import os
import re
import unicodedata
from pathlib import Path

import pytest

from e2e_support import ROOT, T, drag_units, require_browser, serving, unit_centre, wait_for

pytestmark = pytest.mark.slow
playwright_api = require_browser()
expect = playwright_api.expect

from tagger.core import Span  # noqa: E402
from tagger.workspace import status  # noqa: E402
from tagger.workspace.store import Workspace  # noqa: E402

SAMPLES = ROOT / "data" / "samples"
UNITS = ".se-main [data-u]"
REVIEWER = "e2e-bot"
EMOJI = "😀 이순신 장군은 서울에 갔다."
NFD = unicodedata.normalize("NFD", "서울에 간다.")
EVIL = "<img src=x onerror=alert(1)> 홍길동은 왔다."
NAMES = ["김철수", "이영희", "박민수", "최지우", "정우성"]


def klue(text: str, spans=()) -> str:
    """One sentence in KLUE's character format (a line per code point)."""
    tags = ["O"] * len(text)
    for a, b, label in spans:
        tags[a:b] = [f"B-{label}"] + [f"I-{label}"] * (b - a - 1)
    return "".join(f"{c}\t{t}\n" for c, t in zip(text, tags)) + "\n"


def ten_texts() -> list[str]:
    return [f"{NAMES[i % 5]}는 {i + 1}월에 부산에 갔다." for i in range(10)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module; each dataset is added before it starts."""
    root = tmp_path_factory.mktemp("review-e2e")
    ws = Workspace(root / "workspace")
    ids = {"klue": ws.add_sample("ner_klue_dev.tsv")[0]["id"], "conll": ws.add_sample("ner_conll.tsv")[0]["id"]}
    ids["tiny"] = ws.add_dataset("tiny.tsv", (klue(EMOJI) + klue(NFD) + klue(EVIL)).encode("utf-8"))[0]["id"]
    ten = "".join(klue(t, [(0, 3, "PS")]) for t in ten_texts())
    ids["ten"] = ws.add_dataset("ten.tsv", ten.encode("utf-8"))[0]["id"]
    with serving(root / "workspace", root, REVIEWER) as srv:
        yield srv, ids


def ws_of(server) -> Workspace:
    return Workspace(server[0].ws_dir)


def settled(page):
    expect(page.locator(".se-root")).to_have_attribute("aria-busy", "false", timeout=T)


def open_review(page, server, dataset: str):
    """/review in a new session, then the dataset picked in its selectbox."""
    srv, ids = server
    page.goto(f"{srv.url}/review")
    expect(page.get_by_role("heading", name="Review").first).to_be_visible(timeout=T)
    box = page.get_by_label("Dataset", exact=True)
    expect(box).to_be_visible(timeout=T)
    if ids[dataset] not in box.input_value():
        box.click()
        page.get_by_role("option", name=re.compile(re.escape(ids[dataset]))).click()
    expect(box).to_have_value(re.compile(re.escape(ids[dataset])), timeout=T)
    idle(page)
    first = Workspace(srv.ws_dir).corpus(ids[dataset]).sentences[0].text
    expect(page.locator(".se-caption")).to_have_count(1, timeout=T)
    expect(page.locator(".se-caption")).to_contain_text("sentence 1 ·", timeout=T)
    expect(page.locator(UNITS)).to_have_count(len(first if dataset != "conll" else first.split()), timeout=T)
    expect(page.locator(UNITS).first).to_have_text(first[0] if dataset != "conll" else first.split()[0])
    settled(page)
    return ids[dataset]


def idle(page):
    """Streamlit has finished its script run."""
    page.wait_for_timeout(300)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=T)


def go_to(page, n: int):
    """Sentence ``n`` (1-based) by the editor's j key."""
    page.locator(".se-caption").click()  # focus the editor (a click that selects nothing)
    for k in range(2, n + 1):  # one at a time: this is navigation, not the typed-ahead test
        page.keyboard.press("j")
        expect(page.locator(".se-caption")).to_contain_text(f"sentence {k} ·", timeout=T)
        settled(page)




def chip(page, k: int) -> str:
    """The label key ``k + 1`` gives (the chip's text after its key)."""
    return page.locator(".se-chip").nth(k).inner_text().split(None, 1)[1].strip()


def test_drag_over_hangul_and_press_2(server, page):
    ws = ws_of(server)
    did = open_review(page, server, "klue")
    text = ws.corpus(did).sentences[0].text
    a = text.index("연구팀")
    drag_units(page, a, a + 2)
    expect(page.locator(".se-status")).to_contain_text("연구팀")
    if os.environ.get("E2E_SCREENSHOTS"):                # the README's picture of the editor
        page.screenshot(path=str(Path(os.environ["E2E_SCREENSHOTS"]) / "4_review_editor.png"), full_page=True)
    label = chip(page, 1)
    page.keyboard.press("2")
    fixed = wait_for(lambda: ws.corrections(did).get(0), "the new span")
    assert Span(a, a + 3, label) in fixed and text[a:a + 3] == "연구팀"
    assert set(ws.corpus(did).sentences[0].spans) < set(fixed)
    assert status.statuses(ws, did)[0]["status"] == "corrected"
    assert status.statuses(ws, did)[0]["reviewer"] == REVIEWER


def test_emoji_before_the_entity(server, page):
    ws = ws_of(server)
    did = open_review(page, server, "tiny")
    assert page.locator(UNITS).nth(0).inner_text() == "😀"
    a = EMOJI.index("이순신")
    assert a == 2  # code points: the emoji is one
    drag_units(page, a, a + 2)
    label = chip(page, 1)
    page.keyboard.press("2")
    fixed = wait_for(lambda: ws.corrections(did).get(0), "the span")
    assert fixed == [Span(2, 5, label)] and EMOJI[2:5] == "이순신"


def test_nfd_jamo(server, page):
    ws = ws_of(server)
    did = open_review(page, server, "tiny")
    go_to(page, 2)
    seoul = unicodedata.normalize("NFD", "서울")
    assert len(seoul) == 5 and ws.corpus(did).sentences[1].text == NFD
    expect(page.locator(UNITS)).to_have_count(len(NFD))
    drag_units(page, 0, 4)
    label = chip(page, 1)
    page.keyboard.press("2")
    fixed = wait_for(lambda: ws.corrections(did).get(1), "the span")
    assert fixed == [Span(0, 5, label)] and NFD[0:5] == seoul


def test_conll_double_click_selects_a_word(server, page):
    ws = ws_of(server)
    did = open_review(page, server, "conll")
    text = ws.corpus(did).sentences[0].text
    words = [u.inner_text() for u in page.locator(UNITS).all()]
    assert words == text.split()
    k = next(i for i, w in enumerate(words) if i > 1 and not any(
        s.start <= text.index(w) < s.end for s in ws.corpus(did).sentences[0].spans))
    page.mouse.dblclick(*unit_centre(page, k))
    expect(page.locator(".se-status")).to_contain_text(words[k])
    label = chip(page, 2)
    page.keyboard.press("3")
    fixed = wait_for(lambda: ws.corrections(did).get(0), "the word span")
    a = text.index(words[k])
    assert Span(a, a + len(words[k]), label) in fixed


def test_keyboard_only_ten_sentences(server, page):
    """Even sentences accepted as they are (Enter); odd ones get 부산 as the
    second label by keys (Home, →…, Shift+→, 2) and then Enter."""
    ws = ws_of(server)
    did = open_review(page, server, "ten")
    texts, label = ten_texts(), chip(page, 1)
    for i, text in enumerate(texts):
        expect(page.locator(".se-caption")).to_contain_text(f"sentence {i + 1} ·", timeout=T)
        keys = ["Enter"]
        if i % 2:
            busan = text.index("부산")
            keys = ["Home"] + ["ArrowRight"] * busan + ["Shift+ArrowRight", "2", "Enter"]
        for key in keys:
            page.keyboard.press(key)  # typed ahead: the editor queues keys while a save is in flight
        if i < 9:
            expect(page.locator(".se-caption")).to_contain_text(f"sentence {i + 2} ·", timeout=T)
        settled(page)
    current = wait_for(lambda: (s := status.statuses(ws, did)) and len(s) == 10 and s, "ten statuses")
    fixes = ws.corrections(did)
    for i, text in enumerate(texts):
        want = "corrected" if i % 2 else "accepted"
        assert current[i]["status"] == want and current[i]["reviewer"] == REVIEWER, (i, current[i])
        busan = text.index("부산")
        spans = [Span(0, 3, "PS")] + ([Span(busan, busan + 2, label)] if i % 2 else [])
        assert sorted(fixes.get(i, ws.corpus(did).sentences[i].spans)) == spans, i
    assert status.progress(ws, did)["text"] == "10 of 10 reviewed: 5 accepted, 5 corrected, 0 skipped"
    assert page.dialogs == []


def test_ctrl_z_undoes_the_last_edit(server, page):
    ws = ws_of(server)
    did = open_review(page, server, "klue")
    go_to(page, 3)
    before = ws.corrections(did).get(2)
    text = ws.corpus(did).sentences[2].text
    drag_units(page, 0, 1)
    page.keyboard.press("4")
    fixed = wait_for(lambda: ws.corrections(did).get(2) != before and ws.corrections(did).get(2), "the edit")
    assert any(s.start == 0 and s.end == 2 for s in fixed), (text, fixed)
    settled(page)
    page.keyboard.press("Control+z")
    wait_for(lambda: ws.corrections(did).get(2) == before, "the undone edit")
    assert 2 not in status.statuses(ws, did)
    expect(page.locator(".se-caption")).to_contain_text("sentence 3 ·", timeout=T)
    expect(page.get_by_text(re.compile(rf"undid {REVIEWER}'s last edit on sentence 3"))).to_be_visible(timeout=T)


def test_img_sentence_shows_as_text(server, page):
    ws = ws_of(server)
    did = open_review(page, server, "tiny")
    go_to(page, 3)
    main = page.locator(".se-main")
    expect(main).to_contain_text("<img src=x onerror=alert(1)>")
    assert main.inner_text() == EVIL
    host = page.locator('[data-testid="stBidiComponentIsolated"]')
    assert host.locator("img").count() == 0
    assert page.locator('img[src="x"]').count() == 0
    expect(page.locator("div.tagged").first).to_contain_text("<img src=x onerror=alert(1)>")
    page.wait_for_timeout(1000)
    assert page.dialogs == []
    a = EVIL.index("홍길동")
    drag_units(page, a, a + 2)
    page.keyboard.press("1")
    fixed = wait_for(lambda: ws.corrections(did).get(2), "the span")
    assert EVIL[fixed[0].start:fixed[0].end] == "홍길동" and page.dialogs == []
    if os.environ.get("E2E_SCREENSHOTS"):
        page.screenshot(path=str(Path(os.environ["E2E_SCREENSHOTS"]) / "4_review_editor_e2e.png"))
