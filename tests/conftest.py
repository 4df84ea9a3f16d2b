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
def klue_dir():
    if not (KLUE / "train.tsv").exists():
        pytest.skip(f"shared KLUE split not found at {KLUE} (it lives in ../shared/data beside the repo)")
    return KLUE
