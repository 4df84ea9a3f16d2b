"""The annotation loop's workspace state (``tagger.workspace.loop``): what a
round trains on, the held-out slice (chosen once by its rule, the same every
round, never trained on), the history rows, the order published in one atomic
write, and the queue Review shows. The engine's parts (a tiny tagger, its
uncertainty ranking) only in the tests that say so."""
import json

import pytest

from loop_support import add_tiny, klue, sentence
from tagger.core import Span, TaggerError
from tagger.workspace import loop, status
from tagger.workspace.store import Workspace

WHO = "kim"


@pytest.fixture
def ws(tmp_path):
    return Workspace(tmp_path / "ws")


@pytest.fixture
def did(ws):
    return add_tiny(ws)


def accept(ws, did, indices, who=WHO):
    for i in indices:
        status.accept(ws, did, i, who)


def texts(sentences) -> set[str]:
    return {s.text for s in sentences}


def test_the_heldout_slice_is_every_fifth_reviewed_sentence_and_never_trained_on(ws, did):
    first = [0, 1, 2, 3, 4, 7, 9, 11, 12, 13, 15]
    accept(ws, did, first)
    data = loop.round_data(ws, did, WHO)
    assert sorted(data["heldout"]) == [0, 7, 15] == loop.choose_heldout(first)
    assert data["reviewed"] == len(first) - 3 and data["labelled_sentences"] == 0
    assert texts(data["train"]) == {sentence(i)[0] for i in first if i not in (0, 7, 15)}
    assert data["heldout"][7] == sentence(7)[1]


def test_the_heldout_slice_is_frozen_at_the_first_round(ws, did):
    accept(ws, did, [1, 2, 3, 4, 5])
    assert sorted(loop.round_data(ws, did, WHO)["heldout"]) == [1]
    accept(ws, did, [0, 6, 7, 8, 9, 10, 11])  # by the rule alone the slice would now be 0, 5, 10
    data = loop.round_data(ws, did, WHO)
    assert sorted(data["heldout"]) == [1]
    assert sentence(1)[0] not in texts(data["train"])
    assert {sentence(i)[0] for i in (0, 5, 10)} <= texts(data["train"])
    assert loop.state(ws, did)["heldout"]["indices"] == [1]


def test_a_round_trains_on_corrections_and_a_labelled_set(ws, did):
    accept(ws, did, [0, 1, 2])
    fixed = [Span(0, 3, "OG")]
    status.correct(ws, did, 3, fixed, WHO)
    status.skip(ws, did, 4, WHO)
    extra = ws.add_dataset("extra.tsv", klue([sentence(i) for i in range(100, 104)]))[0]["id"]
    data = loop.round_data(ws, did, WHO, labelled_id=extra)
    assert sorted(data["heldout"]) == [0]
    assert data["reviewed"] == 3 and data["labelled_sentences"] == 4 and len(data["train"]) == 7
    mine = {s.text: s.spans for s in data["train"]}
    assert mine[sentence(3)[0]] == fixed and sentence(4)[0] not in mine  # skipped: not reviewed


def test_blind_rounds_use_the_reviewers_own_annotations(ws, did):
    accept(ws, did, [0, 1, 2, 3])
    status.correct(ws, did, 2, [Span(0, 3, "OG")], "lee")  # lee's correction, latest by anyone
    open_ = {s.text: s.spans for s in loop.round_data(ws, did, WHO)["train"]}
    assert open_[sentence(2)[0]] == [Span(0, 3, "OG")]
    blind = {s.text: s.spans for s in loop.round_data(ws, did, WHO, blind=True)["train"]}
    assert blind[sentence(2)[0]] == sentence(2)[1]


def test_refuses_too_little_or_a_mismatched_labelled_set(ws, did):
    accept(ws, did, [0, 1])
    with pytest.raises(TaggerError, match="2 reviewed sentence.*1 of them held out"):
        loop.round_data(ws, did, WHO)
    words = ws.add_sample("ner_conll.tsv")[0]["id"]
    with pytest.raises(TaggerError, match="labelled by word"):
        loop.round_data(ws, did, WHO, labelled_id=words)


def row(model_id: str, reviewed: int, f1: float) -> dict:
    return {"model_id": model_id, "run_id": None, "reviewer": WHO, "reviewed": reviewed, "labelled_id": None,
            "labelled_sentences": 0, "heldout_f1": f1, "heldout_size": 2, "measure": "path", "started": 1.0}


def test_publish_appends_history_and_replaces_the_order(ws, did):
    assert loop.state(ws, did) == loop.empty_state()
    one = loop.publish(ws, did, row("m-aaaaaaaaaa", 4, 0.25), [(5, 0.9), (9, 0.9), (6, 0.2)])
    two = loop.publish(ws, did, row("m-bbbbbbbbbb", 8, 0.5), [(6, 0.7), (5, 0.1)])
    st = loop.state(ws, did)
    assert (one["round"], two["round"]) == (1, 2) and [r["model_id"] for r in st["rounds"]] == \
        ["m-aaaaaaaaaa", "m-bbbbbbbbbb"]
    assert st["order"] == {"round": 2, "model_id": "m-bbbbbbbbbb", "measure": "path", "scores": [[6, 0.7], [5, 0.1]]}
    hist = loop.history(st)
    assert [(h["reviewed sentences"], h["held-out F1"]) for h in hist] == [(4, 0.25), (8, 0.5)]
    assert all(h["minutes"] is not None and h["minutes"] > 0 for h in hist)


def test_a_failed_publish_leaves_the_old_state_whole(ws, did, monkeypatch):
    loop.publish(ws, did, row("m-aaaaaaaaaa", 4, 0.25), [(5, 0.9), (6, 0.2)])
    path = ws.root / "datasets" / did / loop.LOOP_FILE
    before = path.read_bytes()

    def full_disk(target, data):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(loop, "atomic_write", full_disk)
    with pytest.raises(OSError):
        loop.publish(ws, did, row("m-bbbbbbbbbb", 8, 0.5), [(6, 0.7)])
    assert path.read_bytes() == before and json.loads(before)["order"]["model_id"] == "m-aaaaaaaaaa"
    assert sorted(p.name for p in path.parent.iterdir()) == ["loop.json", "loop.json.lock", "original"]


def test_the_published_order_is_written_by_the_atomic_writer(ws, did, monkeypatch):
    from tagger.core import files
    seen = []
    monkeypatch.setattr(loop, "atomic_write", lambda p, data: (seen.append(p), files.atomic_write(p, data)))
    loop.publish(ws, did, row("m-aaaaaaaaaa", 4, 0.25), [(5, 0.9)])
    assert seen == [ws.root / "datasets" / did / loop.LOOP_FILE]


def test_the_queue_drops_sentences_reviewed_since_and_keeps_the_published_order(ws, did):
    loop.publish(ws, did, row("m-aaaaaaaaaa", 4, 0.25), [(9, 1.0), (5, 1.0), (6, 0.4), (7, 0.1)])
    accept(ws, did, [6])
    current = status.statuses(ws, did)
    st = loop.state(ws, did)
    assert loop.queue(st, current) == [(9, 1.0), (5, 1.0), (7, 0.1)]  # ties stay as the engine ranked them
    rows = [{"index": i} for i in range(12)]
    assert [r["index"] for r in loop.order_rows(rows, st, current)] == [9, 5, 7, 0, 1, 2, 3, 4, 6, 8, 10, 11]
    assert loop.unreviewed(ws, did) == [i for i in range(20) if i != 6]
