"""The public demo server as a user starts it, in a real browser:
``bash scripts/serve_demo.sh TAGGER.zip LM.zip --port N --workspace DIR`` (a
subprocess in its own process group, always stopped), its printed share links
opened in Debian's headless Chromium via Playwright.

Checked: a share link with ``&text=`` as the first request to the fresh server
opens the Demo with that text and the entities it highlights equal the engine's
own prediction of the same model; the LM's example link opens with its text;
Data, Train, Review (any spelling) are not served (they land on Home or the
Demo, never on those pages) and the sidebar lists only Home and Demo; a second
server on the same zips (another port, another workspace) prints the same model
ids and shows the same entities for the same text.
"""
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from urllib.parse import urlencode

import pytest

from demo_support import ROOT, tiny_ngram, tiny_tagger, zip_model
from e2e_support import T, free_port, require_browser

pytestmark = pytest.mark.slow
playwright_api = require_browser()
expect = playwright_api.expect
if shutil.which("java") is None:  # scripts/setup.sh, run first by serve_demo.sh, requires a JRE
    pytest.skip("Java not found: scripts/setup.sh (run by serve_demo.sh) needs a JRE", allow_module_level=True)

import tagger  # noqa: E402

TEXT = "김민준 기자는 3일 서울에서 열린 회의에 참석했다."
MARKS_JS = """e => { const out = []; let pos = 0;
  for (const n of e.childNodes) {
    if (n.nodeType === 1 && n.tagName === 'MARK') {
      const c = n.cloneNode(true); c.querySelectorAll('sup').forEach(s => s.remove());
      out.push([c.textContent, n.dataset.label, pos, pos + c.textContent.length]); pos += c.textContent.length;
    } else if (n.nodeType === 3) { pos += n.textContent.length; }
  }
  return out; }"""


class DemoServer:
    """``scripts/serve_demo.sh`` on a free port with its own workspace, in its own process group."""

    def __init__(self, zips, tmp):
        self.port, self.ws = free_port(), tmp / "demo_ws"
        self.url, self.log = f"http://127.0.0.1:{self.port}", tmp / "serve_demo.log"
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env.pop("TAGGER_READONLY", None)  # the script itself must set it
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                ["bash", "scripts/serve_demo.sh", *map(str, zips), "--port", str(self.port),
                 "--workspace", str(self.ws), "--address", "127.0.0.1"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self) -> str:
        end = time.time() + 120
        while time.time() < end:
            if self.proc.poll() is not None:
                pytest.fail(f"serve_demo.sh exited {self.proc.returncode}: {self.output()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return self.output()
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"serve_demo.sh did not serve in time: {self.output()[-2000:]}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def links(self) -> dict:
        """{model id: (kind, share link, example link)} as printed."""
        found = re.findall(r"serve_demo: model (m-[0-9a-f]{10})  (\w+)  .*\n  share link: (\S+)\n  example: +(\S+)",
                           self.output())
        return {mid: (kind, link, example) for mid, kind, link, example in found}

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    tagger_dir = tiny_tagger(d / "ner_tiny", epochs=10)
    return {"tagger_dir": tagger_dir, "zips": [zip_model(tagger_dir, d / "ner_tiny.zip"),
                                               zip_model(tiny_ngram(d / "lm_tiny"), d / "lm_tiny.zip")]}


def _serve(zips, tmp):
    srv = DemoServer(zips, tmp)
    srv.wait_healthy()
    return srv


def _open(browser, url: str):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.goto(url)
    return ctx, page


def _settled(page) -> None:
    page.wait_for_timeout(300)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=T)


def _shown_entities(browser, link: str) -> list:
    """The entities the Demo highlights for the share link's text: [text, label, start, end]."""
    ctx, page = _open(browser, link)
    try:
        expect(page.get_by_role("heading", name="Demo", exact=True).first).to_be_visible(timeout=T)
        expect(page.get_by_label("Korean text (one or more sentences)", exact=True)).to_have_value(TEXT, timeout=T)
        tagged = page.locator("div.tagged").first
        expect(tagged).to_be_visible(timeout=T)
        _settled(page)
        expect(page.get_by_text("Page not found")).to_have_count(0)
        return tagged.evaluate(MARKS_JS)
    finally:
        ctx.close()


def _sidebar_and_heading(browser, url: str) -> tuple[list, list]:
    ctx, page = _open(browser, url)
    try:
        nav = page.locator('[data-testid="stSidebarNav"]')
        expect(nav.get_by_text("Demo", exact=True)).to_be_visible(timeout=T)
        expect(page.locator("h1").first).to_be_visible(timeout=T)
        _settled(page)
        return ([t.strip().splitlines()[-1] for t in nav.locator("a").all_inner_texts()],  # without the icon
                [h.strip() for h in page.locator("h1").all_inner_texts()])
    finally:
        ctx.close()


def test_the_demo_server_serves_share_links_only_demo_and_the_same_results_twice(models, browser,
                                                                                 tmp_path_factory):
    engine = [[e["text"], e["label"], e["start"], e["end"]]
              for e in tagger.load_model(models["tagger_dir"]).predict([TEXT])[0]["entities"]]
    assert engine, "the tiny tagger finds no entity in TEXT: the comparison would say nothing"
    first = _serve(models["zips"], tmp_path_factory.mktemp("first"))
    try:
        printed = first.links()
        kinds = {kind: (mid, link, example) for mid, (kind, link, example) in printed.items()}
        assert set(kinds) == {"tagger", "lm"}, first.output()
        mid, link, _ = kinds["tagger"]
        assert link == f"{first.url}/demo?model={mid}"
        shown = _shown_entities(browser, f"{link}&{urlencode({'text': TEXT})}")  # the first request
        assert shown == engine
        print(f"\nshown on {first.url}: {shown}")
        ctx, page = _open(browser, kinds["lm"][2])  # the LM's example link
        expect(page.get_by_label("Korean text (one or more sentences)", exact=True)).to_have_value(
            "철수와 영희는 식탁에 앉아 사과를", timeout=T)
        expect(page.get_by_text("cannot be opened")).to_have_count(0)
        ctx.close()
        for path in ("data", "train", "review", "Data"):
            nav, headings = _sidebar_and_heading(browser, f"{first.url}/{path}")
            assert nav == ["Home", "Demo"], (path, nav)
            assert headings and headings[0] in ("Korean sequence-tagging workbench", "Demo"), (path, headings)
            assert not {"Data", "Train", "Review", "Evaluate", "Language models"} & set(headings), (path, headings)
    finally:
        first.stop()
    second = _serve(models["zips"], tmp_path_factory.mktemp("second"))
    try:
        assert set(second.links()) == set(printed)  # stable ids: the share links survive a redeploy
        link2 = second.links()[mid][1]
        assert _shown_entities(browser, f"{link2}&{urlencode({'text': TEXT})}") == shown
        print(f"the same on {second.url}; ids {sorted(printed)}")
    finally:
        second.stop()
