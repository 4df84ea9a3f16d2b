"""Every address opens its page inside the app's one navigation, in a real
browser on `streamlit run app.py` (Debian's headless Chromium via Playwright).

Two bugs this guards against: a share link ``/demo?model=…&text=…`` as the
first request after a server start rendered the Demo under a "Page not found …
Running the app's main page" dialog (a ``pages/`` folder beside app.py turned
on Streamlit's v1 auto-discovery for that first run, streamlit/streamlit#9624;
the page scripts now live in ``app_pages/``); and capitalised or ``_`` paths
(``/Data``, ``/Review``, ``/Demo?…``, ``/language_models``) were served outside
the navigation on a fresh server and landed on Home under the same dialog,
dropping the demo text, on a warm one (ui/shell.py maps them to their page).

Each path is opened twice: as the first request to a freshly started server,
then in a new browser context on the now warm server. Each time the page's
heading shows, the sidebar lists the app's pages, the address is the page's
own (query kept), no "Page not found" is shown, and the Demo tags its text.
"""
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from e2e_support import T, Server, require_browser

pytestmark = pytest.mark.slow
playwright_api = require_browser()
expect = playwright_api.expect

from tagger.runs import control as runs  # noqa: E402
from tagger.runs.worker import execute  # noqa: E402
from tagger.workspace.store import Workspace  # noqa: E402

TEXT = "김민준 기자는 3일 서울에서 열린 회의에 참석했다."
TITLES = ("Home", "Data", "Train", "Evaluate", "Review", "Language models", "Demo")
# (path as typed, the page's heading, its own url path)
PATHS = [("Data", "Data", "data"), ("DATA", "Data", "data"), ("review", "Review", "review"),
         ("Review", "Review", "review"), ("Demo?{query}", "Demo", "demo"),
         ("language_models", "Language models", "language-models"),
         ("language-models", "Language models", "language-models")]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """A workspace with the samples and one small tagger (a few epochs: the page only has to tag)."""
    ws = Workspace(tmp_path_factory.mktemp("urls") / "workspace")
    dv, _ = ws.add_sample("ner_klue_dev.tsv")
    tr, _ = ws.add_sample("ner_klue.tsv")
    config = {"tokenizer": "char", "model": {"hidden_size": 16, "num_layers": 1, "embedding_dim": 16},
              "train": {"epochs": 2, "batch_size": 8, "lr": 5e-3, "patience": 2}, "threads": 1,
              "train_id": tr["id"], "dev_id": dv["id"]}
    rid = runs.create_run(ws, config, name="url model")
    assert execute(ws, rid) == 0
    return ws, runs.run(ws, rid)["model_id"]


@pytest.fixture(scope="module")
def server(seeded, tmp_path_factory):
    ws, _ = seeded
    srv = Server(ws.root, tmp_path_factory.mktemp("logs"))
    try:
        yield srv
    finally:
        srv.stop()


def _query(mid: str) -> str:
    return urlencode({"model": mid, "text": TEXT})


def _visit(browser, server, path: str, title: str, own: str, query: str = ""):
    """Open ``path`` in a new context; check the page, its shell and its address; returns the page."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(f"{server.url}/{path}")
    expect(page.get_by_role("heading", name=title, exact=True).first).to_be_visible(timeout=T)
    nav = page.locator('[data-testid="stSidebarNav"]')
    for t in TITLES:
        expect(nav.get_by_text(t, exact=True)).to_be_visible(timeout=T)
    page.wait_for_timeout(300)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=T)
    expect(page).to_have_url(re.compile(re.escape(f"{server.url}/{own}") + r"(\?.*)?$"), timeout=T)
    assert parse_qs(urlsplit(page.url).query) == parse_qs(query), page.url
    expect(page.get_by_text("Page not found")).to_have_count(0)
    return ctx, page


def _demo_shows_text(page) -> None:
    expect(page.get_by_label("Korean text (one or more sentences)", exact=True)).to_have_value(TEXT, timeout=T)
    tagged = page.locator("div.tagged").first
    expect(tagged).to_be_visible(timeout=T)
    shown = tagged.evaluate("e => { const c = e.cloneNode(true); c.querySelectorAll('sup').forEach(s => s.remove());"
                            " return c.textContent; }")  # the sentence without the entity labels
    assert TEXT in shown, shown


def test_share_link_as_the_first_request_after_a_start(seeded, server, browser):
    _, mid = seeded
    server.stop()
    server.start()
    query = _query(mid)
    ctx, page = _visit(browser, server, f"demo?{query}", "Demo", "demo", query)
    _demo_shows_text(page)
    expect(page.get_by_text("Page not found")).to_have_count(0)
    ctx.close()


@pytest.mark.parametrize("path,title,own", PATHS, ids=[p[0].split("?")[0] for p in PATHS])
def test_any_spelling_opens_its_page_in_the_shell_on_a_fresh_and_a_warm_server(seeded, server, browser,
                                                                               path, title, own):
    _, mid = seeded
    query = _query(mid) if "{query}" in path else ""
    path = path.format(query=query)
    server.stop()
    server.start()
    for state in ("fresh", "warm"):
        ctx, page = _visit(browser, server, path, title, own, query)
        if title == "Demo":
            _demo_shows_text(page)
        ctx.close()
