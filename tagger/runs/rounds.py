"""Rounds of the annotation loop as background runs: start one on a dataset
(one at a time per dataset) and list a dataset's rounds. The round itself is
the ``loop`` task of :mod:`tagger.runs.tasks`; its state is
:mod:`tagger.workspace.loop`."""
from __future__ import annotations

from tagger.core import TaggerError
from tagger.runs import control
from tagger.runs.tasks import task_of
from tagger.workspace.store import Workspace


def loop_runs(ws: Workspace, dataset_id) -> list[dict]:
    """The loop rounds run on ``dataset_id``, newest first (any status)."""
    did = ws.dataset(dataset_id)["id"]
    return [r for r in control.runs(ws) if task_of(r["config"]) == "loop" and r["config"].get("train_id") == did]


def start_round(ws: Workspace, dataset_id, reviewer, blind: bool = False, labelled_id=None,
                settings: dict | None = None, model: dict | None = None) -> str:
    """Start a loop round on ``dataset_id`` in the background; returns its run
    id. ``settings``: ``LoopConfig`` fields; ``model``: ``TaggerConfig`` fields
    of a first round's fresh model. One round of a dataset at a time: a
    TaggerError while one is active."""
    did = ws.dataset(dataset_id)["id"]
    busy = [r for r in loop_runs(ws, did) if r["status"] in control.ACTIVE]
    if busy:
        raise TaggerError(f"a round of this dataset is already {busy[0]['status']} (run {busy[0]['id']})")
    return control.start_run(ws, {"task": "loop", "train_id": did, "labelled_id": labelled_id, "reviewer": reviewer,
                                  "blind": blind, "tokenizer": "char", "loop": dict(settings or {}),
                                  "model": dict(model or {})})
