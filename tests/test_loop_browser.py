"""The annotation loop end to end in a real browser (issue 12's "done when"):
`streamlit run app.py` with a fresh workspace holding one 20-sentence KLUE
dataset written here; Playwright in Debian's headless Chromium reviews five
sentences by keyboard, clicks *Retrain on what is reviewed*, waits for the
round in the background, and then the sentence list is in the round's
uncertainty order and the editor shows the most uncertain unreviewed
sentence. The expected order is computed here, independently of the page,
with the engine on the round's saved model."""
import os
import re

import pytest

from e2e_support import T, require_browser, serving, wait_for
from loop_support import add_tiny

pytestmark = pytest.mark.slow
expect = require_browser().expect

from tagger.tokenizers import get_tokenizer  # noqa: E402
from tagger.training.active import rank_by_uncertainty  # noqa: E402
from tagger.workspace import loop, models as ws_models, status  # noqa: E402
from tagger.workspace.store import Workspace  # noqa: E402

REVIEWER = "e2e-loop"
N = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("loop-e2e")
    did = add_tiny(Workspace(root / "workspace"), n=N)
    with serving(root / "workspace", root, REVIEWER) as srv:
        yield srv, did


def caption(page, text: str):
    expect(page.locator(".se-caption")).to_contain_text(text, timeout=T)
    expect(page.locator(".se-root")).to_have_attribute("aria-busy", "false", timeout=T)


def open_list(page, picker):
    """The picker's options, opened by a click; a click that lands during a rerun (the page
    redraws the select box and its list closes) is tried again, up to four times."""
    options = page.get_by_role("option")
    for _ in range(4):
        picker.click()
        try:
            expect(options.first).to_be_visible(timeout=15_000)
            return options
        except AssertionError:
            page.keyboard.press("Escape")
    pytest.fail("the sentence picker's list never opened")


def expected_order(ws, did) -> list[tuple[int, float]]:
    """The unreviewed sentences ranked by the round's model, computed here with the engine."""
    st = loop.state(ws, did)
    model = ws_models.load(ws, st["rounds"][-1]["model_id"])
    todo = [i for i in range(N) if i not in status.statuses(ws, did)]
    tokens = get_tokenizer(model.tokenizer).tokenize_many([ws.corpus(did).sentences[i].text for i in todo]).tokens
    return [(todo[p], u) for p, u in rank_by_uncertainty(model, tokens, st["rounds"][-1]["measure"])]


def test_review_five_retrain_and_open_on_the_most_uncertain(server, page):
    srv, did = server
    ws = Workspace(srv.ws_dir)
    page.goto(f"{srv.url}/review")
    caption(page, "sentence 1 · 1 of 20 in the list · unreviewed")
    page.locator(".se-caption").click()  # focus the editor
    for k in range(1, 6):
        page.keyboard.press("Enter")  # accept, and on to the next sentence
        caption(page, f"sentence {k + 1} ·")
    wait_for(lambda: len(status.statuses(ws, did)) == 5, "five accepted sentences", timeout=60)
    retrain = page.get_by_role("button", name=re.compile("Retrain on what is reviewed"))
    retrain.scroll_into_view_if_needed()
    retrain.click()
    st = wait_for(lambda: (s := loop.state(ws, did))["order"] and s, "a published round", timeout=240)
    want = expected_order(ws, did)
    assert [i for i, _ in want] == [i for i, _ in st["order"]["scores"]]
    assert [u for _, u in want] == pytest.approx([u for _, u in st["order"]["scores"]])
    top = want[0][0]
    assert want[0][1] == max(u for _, u in want) and top not in range(5)
    caption(page, f"sentence {top + 1} · 1 of 20 in the list · unreviewed")  # the page took the round by itself
    picker = page.get_by_label(re.compile(r"^Sentence \(20 of 20 shown\)"))
    expect(picker).to_have_value(re.compile(rf"^#{top + 1} · "), timeout=T)
    options = open_list(page, picker)
    shown = options.all_inner_texts()[:8]  # one read of the open list
    assert [int(re.match(r"#(\d+) ·", s).group(1)) - 1 for s in shown] == [i for i, _ in want[:len(shown)]]
    assert page.dialogs == []
    page.keyboard.press("Escape")
    if os.environ.get("E2E_SCREENSHOTS"):  # docs/app.md's picture of the loop
        page.get_by_role("heading", name="Retrain on what is reviewed").evaluate("e => e.scrollIntoView()")
        expect(page.locator('[data-testid="stVegaLiteChart"]').last).to_be_visible(timeout=T)
        page.wait_for_timeout(1000)
        page.screenshot(path=os.path.join(os.environ["E2E_SCREENSHOTS"], "4_review_loop.png"))
