import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
SHARED = Path(os.environ.get("TAGGER_SHARED_DATA", ROOT.parent / "shared" / "data"))
KLUE = SHARED / "klue-ner"


@pytest.fixture(autouse=True)
def _workspace(tmp_path_factory, monkeypatch):
    """Every test gets its own workspace (cache, runs), never data/workspace."""
    ws = tmp_path_factory.mktemp("ws")
    monkeypatch.setenv("TAGGER_WORKSPACE", str(ws))
    return ws


@pytest.fixture
def one_torch_thread():
    """One intra-op thread: on a busy 2-core machine two threads spin-wait and run ~50x slower."""
    import torch
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def klue_dir():
    if not (KLUE / "train.tsv").exists():
        pytest.skip(f"shared KLUE split not found at {KLUE} (it lives in ../shared/data beside the repo)")
    return KLUE


@pytest.fixture
def browser():
    """Headless Debian Chromium driven by Playwright (the browser tests; skips when missing)."""
    from e2e_support import launch_chromium, require_browser
    with require_browser().sync_playwright() as p:
        b = launch_chromium(p)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, request):
    """A fresh page (its own context) in ``browser``, dialogs recorded in ``page.dialogs`` and
    dismissed; the viewport is the test module's ``VIEWPORT`` (default 1300 x 1000)."""
    from e2e_support import page_with_dialogs
    context, pg = page_with_dialogs(browser, *getattr(request.module, "VIEWPORT", (1300, 1000)))
    try:
        yield pg
    finally:
        context.close()


def run_cli(capsys, *argv):
    """Run ``python -m tagger ARGV`` in-process: (exit code, stdout, stderr)."""
    from tagger.cli import main
    code = main([str(a) for a in argv])
    out, errs = capsys.readouterr()
    return code, out, errs


def assert_bad_input_exits_2(capsys, tmp_path, argv):
    """Run ARGV ({tmp} = a folder holding a non-empty ``full/`` and a tagger
    ``model.json`` under ``tagger/``): exit 2, nothing on stdout, one clean error line."""
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    (tmp_path / "tagger").mkdir()
    (tmp_path / "tagger" / "model.json").write_text('{"kind": "tagger", "format_version": 1}')
    code, out, errs = run_cli(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert code == 2 and out == "" and "Traceback" not in errs
    assert errs.strip().splitlines()[-1].startswith("error: ")
