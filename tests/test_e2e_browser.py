"""One real-browser end-to-end test: `streamlit run app.py` on a free port with a
temporary workspace, driven by Python Playwright in Debian's headless Chromium
(/usr/bin/chromium; `bash scripts/setup_browser.sh` installs both).

The landing page's one-click path (sample → tokenize → train → report, under
2 minutes) → Data: upload a sample TSV, see the validation report, tokenize →
Train: 2 epochs (Kkma, so the run spends a few seconds tokenizing), reload the
browser during the run and still see it, wait for it → Evaluate: read F1 in the
report table → Review: correct one entity and export → a Demo share link in a
fresh browser context shows a highlighted entity. The demo and evaluation use
the one-click model (30 epochs): 2 epochs on 25 sentences often tag nothing.
→ Language models: three small LMs (Kkma and char n-grams, a char LSTM,
trained here through the engine API) compared on the held-out sample, then a
typed prefix gets next-token suggestions and sampled continuations.
Screenshots of every page go to a temp folder (and to $E2E_SCREENSHOTS when set).
"""
import os
import re
import shutil
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from e2e_support import ROOT, T, Server, require_browser

SAMPLES = ROOT / "data" / "samples"
SAMPLE = SAMPLES / "ner_klue.tsv"

pytestmark = pytest.mark.slow
playwright_api = require_browser()
expect = playwright_api.expect


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path / "workspace", tmp_path)
    srv.start()
    try:
        yield srv.url, srv.ws_dir
    finally:
        srv.stop()


def _shot(page, folder: Path, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so the viewport
    is made as tall as the content for the shot."""
    size = page.viewport_size
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll("
                           "'[data-testid=stMain], [data-testid=stAppViewContainer], section.main')]"
                           ".map(e => e.scrollHeight), document.body.scrollHeight)")
    page.set_viewport_size({"width": size["width"], "height": min(max(int(height), size["height"]), 6000)})
    page.wait_for_timeout(1000)  # let charts re-render at the new size
    page.screenshot(path=str(folder / f"{name}.png"))
    page.set_viewport_size(size)


def _idle(page):
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_timeout(300)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=T)


def _goto(page, url, title):
    page.goto(url)
    expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=T)
    _idle(page)


def _data(page, url, shots):
    _goto(page, f"{url}/data", "Data")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(SAMPLE))
    expect(page.get_by_text(re.compile(r"ner_klue\.tsv: (added|already in the workspace) as d-"))
           ).to_be_visible(timeout=T)
    expect(page.get_by_text("Validation report")).to_be_visible(timeout=T)
    expect(page.get_by_text("No problems found.")).to_be_visible(timeout=T)
    page.get_by_role("button", name="Tokenize", exact=True).click()
    expect(page.get_by_text("entity boundary coverage").first).to_be_visible(timeout=T)
    _idle(page)
    _shot(page, shots, "1_data")


def _select(page, label, option):
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def _nav(page, title):
    """Sidebar navigation: same browser session, so page choices carry over."""
    page.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=T)
    _idle(page)


def _train(page, shots):
    _nav(page, "Train")
    expect(page.get_by_role("combobox", name="Training data")).to_have_value(
        re.compile(r"ner_klue\.tsv · klue · 28 sentences"), timeout=T)
    _select(page, "Tokenizer", "kkma")
    epochs = page.get_by_label("Epochs", exact=True)
    epochs.fill("2")
    epochs.press("Tab")
    page.get_by_role("button", name="Start training", exact=True).click()
    status = page.get_by_text(re.compile(r"(queued|running) · run r-[0-9a-f]+"))
    expect(status).to_be_visible(timeout=T)
    run_id = re.search(r"r-[0-9a-f]+", status.inner_text()).group()
    page.reload()
    # after the reload the same run is still shown in progress, with its progress bar
    expect(page.get_by_text(re.compile(rf"(queued|running) · run {run_id}"))).to_be_visible(timeout=T)
    expect(page.locator('[data-testid="stProgress"]').first).to_be_visible(timeout=T)
    expect(page.get_by_text(re.compile(rf"done · run {run_id}"))).to_be_visible(timeout=180_000)
    _idle(page)
    _shot(page, shots, "2_train")
    return run_id


def _evaluate(page, url, shots) -> float:
    _goto(page, f"{url}/evaluate", "Evaluate")
    _select(page, "Model", re.compile("quick start"))
    _idle(page)
    table = page.locator('[data-testid="stTable"]').first
    expect(table).to_contain_text("micro avg", timeout=T)
    row = table.locator("tr", has_text="micro avg").inner_text()
    f1 = float(re.findall(r"\d\.\d{4}", row)[2])
    expect(page.get_by_text("dev F1 per epoch")).to_be_visible(timeout=T)
    _idle(page)
    _shot(page, shots, "3_evaluate")
    return f1


def _review(page, shots) -> tuple[bytes, str]:
    """Reached through the sidebar (same session: the model chosen on Evaluate)."""
    _nav(page, "Review")
    expect(page.locator("mark.ent").first).to_be_visible(timeout=T)
    _idle(page)  # the whole page has run (a click while it still runs can be lost)
    page.get_by_text("Edit with forms").click()              # the form controls, beside the span editor
    _idle(page)
    page.get_by_role("button", name="Remove entity", exact=True).click()
    expect(page.get_by_text(re.compile(r"saved as version 1"))).to_be_visible(timeout=T)
    page.get_by_role("button", name="Prepare the corrected corpus", exact=True).click()
    expect(page.get_by_text(re.compile(r"1 of \d+ sentences corrected"))).to_be_visible(timeout=T)
    expect(page.get_by_text("Round trip checked", exact=False)).to_be_visible(timeout=T)
    with page.expect_download(timeout=T) as dl:
        page.get_by_role("button", name=re.compile(r"Download .*corrected")).click()
    _idle(page)
    _shot(page, shots, "4_review")
    return Path(dl.value.path()).read_bytes(), dl.value.suggested_filename


def _quick_start(page, url, shots, ws_dir) -> str:
    """The landing page's one-click path; its model (30 epochs) serves the demo link."""
    from tagger.runs import control as runs
    from tagger.workspace.store import Workspace
    _goto(page, url, "Korean sequence-tagging workbench")
    t0 = time.time()
    page.get_by_role("button", name=re.compile("Quick start")).click()
    expect(page.get_by_text(re.compile(r"Report on ner_klue_dev\.tsv: entity F1"))).to_be_visible(timeout=120_000)
    assert time.time() - t0 < 120, "the one-click path must finish in under 2 minutes"
    _idle(page)
    _shot(page, shots, "0_home")
    quick = [r for r in runs.runs(Workspace(ws_dir)) if r["name"].startswith("quick start")]
    return quick[0]["model_id"]


def _seed_lms(ws_dir) -> None:
    """Three small LMs on the bundled LM sample, registered in the server's workspace."""
    from tagger.workspace import models as ws_models
    from tagger.corpus.load import load_corpus
    from tagger.lm import LMTrainConfig, NgramConfig, RNNLMConfig, train_lm
    from tagger.workspace.store import Workspace
    ws = Workspace(ws_dir)
    ws.add_sample("lm_dev.txt")
    texts = [s.text for s in load_corpus(SAMPLES / "lm.txt").sentences]
    dev = [s.text for s in load_corpus(SAMPLES / "lm_dev.txt").sentences]
    for name, kw in (("char LSTM", dict(kind="rnn", tokenizer="char", train_config=LMTrainConfig(epochs=3),
                                        config=RNNLMConfig(hidden_size=64, embedding_dim=64, num_layers=1))),
                     ("char 4-gram", dict(kind="ngram", tokenizer="char", config=NgramConfig(order=4))),
                     ("kkma trigram", dict(kind="ngram", tokenizer="kkma", config=NgramConfig(order=3)))):
        ws_models.register(ws, train_lm(texts, dev, **kw), name=name)


def _language_models(page, url, shots, ws_dir) -> None:
    """The LM page: the comparison table and charts, then one completion typed in the browser."""
    _seed_lms(ws_dir)
    _goto(page, f"{url}/language-models", "Language models")
    # the newest dataset and LM are picked first: the held-out sample and the Kkma trigram
    expect(page.get_by_role("combobox", name="Held-out text (any dataset: its sentence text)")).to_have_value(
        re.compile(r"^lm_dev\.txt · text · 12 sentences"), timeout=T)
    expect(page.get_by_text("n-gram sparsity by order")).to_be_visible(timeout=T)
    expect(page.get_by_role("combobox", name="Language model", exact=True)).to_have_value(
        re.compile(r"^LM · kkma trigram"), timeout=T)
    _idle(page)
    typed = "오늘 아침 서울 지역에는"
    prefix = page.get_by_label("Prefix", exact=True)
    prefix.fill(typed)
    prefix.press("Enter")
    expect(page.get_by_text(re.compile(r"prefix tokens \(kkma\): 오늘 · 아침 · 서울 · 지역 · 에 · 는$"))
           ).to_be_visible(timeout=T)
    expect(page.locator("div.completion").first).to_contain_text(typed, timeout=T)
    _idle(page)
    chips = page.locator("span.sugg")
    expect(chips).to_have_count(5, timeout=T)
    assert all(re.search(r"\d\.\d{3}$", c.inner_text()) for c in chips.all())
    _shot(page, shots, "lm")


def test_browser_walkthrough(server, browser, tmp_path):
    url, ws_dir = server
    shots = tmp_path / "screenshots"
    shots.mkdir()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    model_id = _quick_start(page, url, shots, ws_dir)
    _data(page, url, shots)
    _train(page, shots)
    assert 0.0 < _evaluate(page, url, shots) <= 1.0
    exported, name = _review(page, shots)
    original = (SAMPLE.parent / name.replace(".corrected", "")).read_text(encoding="utf-8")
    text = exported.decode("utf-8")
    assert text != original and text.count("\n") == original.count("\n")

    fresh = browser.new_context(viewport={"width": 1400, "height": 900})
    demo = fresh.new_page()
    query = urlencode({"model": model_id, "text": "김민준 기자는 3일 서울에서 열린 회의에 참석했다."})
    _goto(demo, f"{url}/demo?{query}", "Demo")
    expect(demo.locator("mark.ent").first).to_be_visible(timeout=T)
    _shot(demo, shots, "5_demo")
    fresh.close()
    _language_models(page, url, shots, ws_dir)
    if os.environ.get("E2E_SCREENSHOTS"):
        out = Path(os.environ["E2E_SCREENSHOTS"])
        out.mkdir(parents=True, exist_ok=True)
        for png in shots.glob("*.png"):
            shutil.copyfile(png, out / png.name)
