"""Keyboard review latency on the Review page, in headless Chromium: the time
from the Enter key press (accept & next) to the next sentence shown in the
span editor, over 50 sentences of the shared KLUE-NER eval split with a
model's predictions on screen; beside it the floor, a bare Streamlit rerun of
an almost empty page (Enter on a button → rerun → text updated).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/review_latency.py \\
        [--sentences 50] [--out benchmarks/results/review_latency.md] [--shot /tmp/review_editor.png]

A throwaway workspace gets the first 51 eval sentences (as a KLUE file) and a
small char BiLSTM-CRF (hidden 32, 1 epoch on 1,000 train sentences, trained
here through the engine and registered); its predictions are cached before
the clock starts, as the page caches them. Both times are taken in the page
(``performance.now()``: keydown in the capture phase → the editor's caption
showing the next sentence number / the text changing), so Playwright's own
round trips are not in them. Skips, with the reason, when the split or the
browser is missing. Needs the shared data in ../shared/data/klue-ner (or
$TAGGER_SHARED_DATA/klue-ner); nothing of it is copied into the repository.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

SHARED = Path(os.environ.get("TAGGER_SHARED_DATA", ROOT.parent / "shared" / "data")) / "klue-ner"
COMMAND = ("OMP_NUM_THREADS=1 .venv/bin/python benchmarks/review_latency.py "
           "--out benchmarks/results/review_latency.md --shot /tmp/review_editor.png")
FLOOR_APP = '''import streamlit as st
st.session_state.setdefault("n", 0)
if st.button("Bump"):
    st.session_state.n += 1
st.write(f"count: {st.session_state.n}")
'''
# keydown (capture, so before the editor sees it) starts the clock; a change of
# the editor caption's sentence number stops it
WATCH_EDITOR = """() => {
  const find = () => { for (const e of document.querySelectorAll('*')) {
    if (e.shadowRoot && e.shadowRoot.querySelector('.se-caption')) return e.shadowRoot.querySelector('.se-caption'); } };
  const cap = find();
  const num = () => (/^sentence (\\d+) ·/.exec(cap.textContent) || [])[1];
  window.__lat = []; window.__t0 = null; let last = num();
  window.addEventListener('keydown', (e) => { if (e.key === 'Enter') window.__t0 = performance.now(); }, true);
  new MutationObserver(() => { const n = num();
    if (n !== last && window.__t0 !== null) { window.__lat.push(performance.now() - window.__t0); window.__t0 = null; }
    last = n; }).observe(cap, {childList: true, characterData: true, subtree: true});
}"""
WATCH_FLOOR = """() => {
  window.__lat = []; window.__t0 = null;
  const shown = () => (/count: (\\d+)/.exec(document.body.innerText) || [])[1];
  let last = shown();
  window.addEventListener('keydown', (e) => { if (e.key === 'Enter') window.__t0 = performance.now(); }, true);
  new MutationObserver(() => { const n = shown();
    if (n !== last && window.__t0 !== null) { window.__lat.push(performance.now() - window.__t0); window.__t0 = null; }
    last = n; }).observe(document.body, {childList: true, characterData: true, subtree: true});
}"""


def skip(reason: str) -> None:
    print(f"skipped: {reason}")
    sys.exit(0)


def workspace(root: Path, n: int) -> tuple[Path, str, str]:
    """A workspace with n eval sentences and a small char model whose
    predictions on them are cached; returns (folder, dataset id, model id)."""
    import tagger
    from tagger.corpus.load import dumps_corpus, load_corpus, new_corpus
    from tagger.workspace import evaluation, models as ws_models
    from tagger.workspace.store import Workspace
    ws = Workspace(root / "workspace")
    ev = load_corpus(SHARED / "eval.tsv")
    data = dumps_corpus(new_corpus(ev.sentences[:n], "klue"))
    d, _ = ws.add_dataset(f"klue_eval_first{n}.tsv", data)
    train = load_corpus(SHARED / "train.tsv")
    t0 = time.time()
    model = tagger.train(train.replace(train.sentences[:1000]), tokenizer="char", hidden_size=32, epochs=1,
                         batch_size=32)
    m = ws_models.register(ws, model, name="bench char h32")
    evaluation.predictions(ws, m["id"], d["id"])  # cached on disk, as the page caches them
    print(f"trained and predicted in {time.time() - t0:.0f} s", flush=True)
    return root / "workspace", d["id"], m["id"]


def wait_idle(page, expect, timeout=60_000) -> None:
    page.wait_for_timeout(150)
    expect(page.locator('[data-testid="stStatusWidget"]')).to_have_count(0, timeout=timeout)


def measure(page, presses: int, expect, pause_ms: int) -> list[float]:
    for i in range(presses):
        page.keyboard.press("Enter")
        page.wait_for_function(f"window.__lat.length >= {i + 1}", timeout=60_000)
        wait_idle(page, expect)
        page.wait_for_timeout(pause_ms)
    return page.evaluate("window.__lat")


def review_run(url: str, n: int, shot: Path | None, api) -> list[float]:
    from e2e_support import launch_chromium
    expect = api.expect
    with api.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1300, "height": 1100})
        page.goto(f"{url}/review")
        expect(page.locator(".se-main [data-u]").first).to_be_visible(timeout=120_000)
        expect(page.get_by_role("combobox", name="Predictions of")).to_have_value(
            re.compile("bench char h32"), timeout=60_000)
        wait_idle(page, expect)
        if shot:
            screenshot(page, shot)
        page.locator(".se-caption").click()
        page.evaluate(WATCH_EDITOR)
        lat = measure(page, n, expect, pause_ms=200)
        browser.close()
    return lat


def screenshot(page, path: Path) -> None:
    """The editor with a selection and its key legend, the progress bar above."""
    page.locator(".se-caption").click()
    for key in ["Home", "ArrowRight", "Shift+ArrowRight", "Shift+ArrowRight"]:
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    page.keyboard.press("Escape")


def floor_run(root: Path, n: int, api) -> list[float]:
    from e2e_support import free_port, launch_chromium
    app = root / "floor_app.py"
    app.write_text(FLOOR_APP)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with api.sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page()
            for _ in range(120):
                try:
                    page.goto(f"http://127.0.0.1:{port}")
                    break
                except Exception:  # noqa: BLE001 - not listening yet
                    time.sleep(0.5)
            button = page.get_by_role("button", name="Bump")
            api.expect(button).to_be_visible(timeout=60_000)
            page.evaluate(WATCH_FLOOR)
            for i in range(n):
                button.focus()
                page.keyboard.press("Enter")
                page.wait_for_function(f"window.__lat.length >= {i + 1}", timeout=60_000)
                wait_idle(page, api.expect)
                page.wait_for_timeout(200)
            lat = page.evaluate("window.__lat")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return lat


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def table(review: list[float], floor: list[float]) -> str:
    rows = ["| measurement | n | p50 ms | p95 ms | mean ms | min ms | max ms |", "|---|---|---|---|---|---|---|"]
    for name, xs in (("Review page: Enter → next sentence in the editor", review),
                     ("floor: bare Streamlit rerun (Enter on a button → text updated)", floor)):
        rows.append(f"| {name} | {len(xs)} | {pct(xs, .5):.0f} | {pct(xs, .95):.0f} | {statistics.mean(xs):.0f} "
                    f"| {min(xs):.0f} | {max(xs):.0f} |")
    return "\n".join(rows)


def machine() -> str:
    import streamlit
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{platform.machine()}, {os.cpu_count()} CPU cores shared with other work (load average {load} "
            f"at the end), Python {platform.python_version()}, Streamlit {streamlit.__version__}, {chromium}, "
            "headless, OMP_NUM_THREADS=1")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sentences", type=int, default=50)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--shot", type=Path)
    args = ap.parse_args(argv)
    if not (SHARED / "eval.tsv").exists() or not (SHARED / "train.tsv").exists():
        skip(f"the shared KLUE-NER split is not at {SHARED} (../shared/data/klue-ner beside the repo)")
    try:
        from playwright import sync_api
    except ImportError:
        skip("Python playwright is not installed (bash scripts/setup_browser.sh)")
    if not Path("/usr/bin/chromium").exists():
        skip("/usr/bin/chromium not found (bash scripts/setup_browser.sh)")
    from e2e_support import Server
    with tempfile.TemporaryDirectory(prefix="review-latency-") as tmp:
        root = Path(tmp)
        ws_dir, _, _ = workspace(root, args.sentences + 1)
        srv = Server(ws_dir, root)
        srv.start()
        try:
            review = review_run(srv.url, args.sentences, args.shot, sync_api)
        finally:
            srv.stop()
        floor = floor_run(root, args.sentences, sync_api)
    report = table(review, floor)
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(f"# Review latency\n\n`{COMMAND}`\n\n{time.strftime('%Y-%m-%d %H:%M %Z')} · {machine()}\n\n"
                            f"{report}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
