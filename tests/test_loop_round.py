"""A loop round end to end below the UI: ``loop.finish_round`` (suggestions
cached, held-out F1, the unreviewed sentences ranked, all checked against
figures computed here with the engine directly), and the ``loop`` run kind in
the background process: trained on what is reviewed, registered, published,
the next round warm-started from it, reviewing going on meanwhile."""
import json

import pytest

from loop_support import TINY_LOOP, TINY_MODEL, add_tiny
from tagger.core import Sentence, TaggerError
from tagger.models.tagger import TaggerConfig
from tagger.runs import control as runs
from tagger.runs.rounds import loop_runs, start_round
from tagger.scoring import score
from tagger.tokenizers import get_tokenizer
from tagger.training.active import LoopConfig, rank_by_uncertainty, train_round
from tagger.workspace import loop, models as ws_models, status
from tagger.workspace.evaluation import predicted_spans
from tagger.workspace.store import Workspace

WHO = "kim"


@pytest.fixture
def ws(tmp_path):
    return Workspace(tmp_path / "ws")


def accept(ws, did, indices):
    for i in indices:
        status.accept(ws, did, i, WHO)


def test_finish_round_publishes_what_the_engine_computes(ws, one_torch_thread):
    did = add_tiny(ws)
    accept(ws, did, range(8))
    data = loop.round_data(ws, did, WHO)
    model = train_round(data["train"], config=LoopConfig(**TINY_LOOP, measure="margin"),
                        model_config=TaggerConfig(**TINY_MODEL))
    mid = ws_models.register(ws, model, name="round 1")["id"]
    accept(ws, did, [12])  # reviewed while the round trained: not in its queue
    row = loop.finish_round(ws, did, mid, {"reviewer": WHO, "reviewed": data["reviewed"], "measure": "margin",
                                           "started": 1.0, "run_id": None})
    cached = ws.root / "predictions" / mid / f"{did}.json"
    assert cached.is_file()
    results = json.loads(cached.read_text(encoding="utf-8"))
    sents = ws.corpus(did).sentences
    gold = [Sentence(sents[i].text, data["heldout"][i]) for i in (0, 5)]
    want_f1 = score(gold, predicted_spans([results[0], results[5]]), "char")["entity_f1"]
    assert row["heldout_f1"] == pytest.approx(want_f1) and row["heldout_size"] == 2
    todo = [i for i in range(20) if i not in set(range(8)) | {12}]
    tokens = get_tokenizer("char").tokenize_many([sents[i].text for i in todo]).tokens
    want = [[todo[p], u] for p, u in rank_by_uncertainty(ws_models.load(ws, mid), tokens, "margin")]
    st = loop.state(ws, did)
    assert st["order"] == {"round": 1, "model_id": mid, "measure": "margin", "scores": want}
    assert st["rounds"] == [row] and row["reviewed"] == 6 and row["round"] == 1


def start(ws, did):
    return start_round(ws, did, WHO, settings=TINY_LOOP, model=TINY_MODEL)


@pytest.mark.slow
def test_rounds_run_in_the_background_and_warm_start(ws):
    did = add_tiny(ws)
    accept(ws, did, range(6))
    first = start(ws, did)
    with pytest.raises(TaggerError, match="already"):
        start(ws, did)
    r1 = runs.wait(ws, first, timeout=300)
    assert r1["status"] == "done", runs.log_lines(ws, first)
    st = loop.state(ws, did)
    assert [r["model_id"] for r in st["rounds"]] == [r1["model_id"]] and st["order"]["model_id"] == r1["model_id"]
    assert st["heldout"]["indices"] == [0, 5] and st["rounds"][0]["reviewed"] == 4
    assert {i for i, _ in st["order"]["scores"]} == set(range(6, 20))  # unreviewed when it published
    assert len(runs.history(ws, first)) >= 1 and loop_runs(ws, did)[0]["id"] == first
    assert r1["config"]["warm"] is False and r1["progress"]["epochs"] == TINY_LOOP["fresh_epochs"]
    accept(ws, did, range(6, 11))
    second = start(ws, did)
    assert loop.state(ws, did)["order"]["round"] == 1  # the old order until the new round publishes
    r2 = runs.wait(ws, second, timeout=300)
    assert r2["status"] == "done", runs.log_lines(ws, second)
    st = loop.state(ws, did)
    assert [r["round"] for r in st["rounds"]] == [1, 2] and st["heldout"]["indices"] == [0, 5]
    assert st["rounds"][1]["reviewed"] == 9 and st["order"]["model_id"] == r2["model_id"]
    meta = ws_models.model_json(ws, r2["model_id"])
    assert meta["loop"]["warm_start"] == r1["model_id"] and meta["transfer"]["warm_start"]
    assert r2["config"]["warm"] is True and r2["progress"]["epochs"] == TINY_LOOP["epochs"]
    assert meta["tagger_config"]["hidden_size"] == TINY_MODEL["hidden_size"]


def test_a_round_refuses_bad_settings(ws):
    did = add_tiny(ws)
    with pytest.raises(TaggerError, match="unknown uncertainty measure"):
        start_round(ws, did, WHO, settings={"measure": "entropy"})
    with pytest.raises(TaggerError, match="unknown loop settings: nope"):
        start_round(ws, did, WHO, settings={"nope": 1})
    text = ws.add_sample("lm.txt")[0]["id"]
    with pytest.raises(TaggerError, match="no entity labels"):
        start_round(ws, text, WHO)
