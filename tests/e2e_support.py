"""What the real-browser tests share: the Chromium they drive, a restartable
`streamlit run app.py` on a free port with its own workspace, and the browser
launch. Each test module calls :func:`require_browser` at import, which skips
it with the reason when Playwright or Chromium is missing."""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("TAGGER_CHROMIUM", "/usr/bin/chromium"))
T = 60_000  # ms, for anything that waits on the server


def require_browser():
    """``playwright.sync_api``, or skip the calling test module with the reason."""
    api = pytest.importorskip(
        "playwright.sync_api", reason="Python playwright is not installed (bash scripts/setup_browser.sh)")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found (bash scripts/setup_browser.sh installs Debian's chromium)",
                    allow_module_level=True)
    return api


def launch_chromium(playwright):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--no-first-run", "--disable-sync"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run app.py` in its own process group, restartable on the same port."""

    def __init__(self, ws_dir: Path, logs: Path):
        self.ws_dir, self.logs, self.port = ws_dir, logs, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc, self.starts = None, 0

    def start(self) -> None:
        self.starts += 1
        log_path = self.logs / f"streamlit-{self.starts}.log"
        env = dict(os.environ, TAGGER_WORKSPACE=str(self.ws_dir), TAGGER_READONLY="", OMP_NUM_THREADS="1",
                   MKL_NUM_THREADS="1")
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
                 "--server.address", "127.0.0.1", "--server.headless", "true",
                 "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        end = time.time() + 60
        while time.time() < end:
            if self.proc.poll() is not None:
                pytest.fail(f"streamlit exited: {log_path.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        pytest.fail("streamlit did not become healthy in time")

    def kill(self) -> None:
        """SIGKILL to the server's whole process group: no shutdown code runs."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def serving(ws_dir: Path, logs: Path, user: str):
    """A started :class:`Server` on ``ws_dir`` with ``TAGGER_USER=user`` while it runs (the
    app's default reviewer); stopped and the variable restored on exit."""
    old = os.environ.get("TAGGER_USER")
    os.environ["TAGGER_USER"] = user
    srv = Server(ws_dir, logs)
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        if old is None:
            os.environ.pop("TAGGER_USER", None)
        else:
            os.environ["TAGGER_USER"] = old


def wait_for(pred, what: str, timeout: float = 30, every: float = 0.1):
    """``pred()``'s first truthy value within ``timeout`` seconds, else the test fails."""
    end = time.time() + timeout
    while time.time() < end:
        got = pred()
        if got:
            return got
        time.sleep(every)
    pytest.fail(f"the workspace never showed {what}")


# ---- the span editor, driven by the mouse (its units are `.se-main [data-u=i]`) ----
def unit_centre(page, i):
    """The centre of the editor's unit ``i`` on the page."""
    box = page.locator(f'.se-main [data-u="{i}"]').bounding_box()
    assert box and box["width"] > 0, f"unit {i} has no box: {box}"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag_units(page, first, last):
    """Drag with the mouse from unit ``first`` to unit ``last``."""
    page.mouse.move(*unit_centre(page, first))
    page.mouse.down()
    page.mouse.move(*unit_centre(page, last), steps=5)
    page.mouse.up()


def page_with_dialogs(browser, width: int, height: int):
    """A fresh page whose dialogs (alert, confirm) are recorded in ``page.dialogs`` and dismissed."""
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    return context, pg
