"""The annotation loop of one dataset: correct → retrain → re-rank by
uncertainty. Its state lives beside the dataset, in ``datasets/<id>/loop.json``,
written whole by the one atomic writer (``tagger.core.files``)::

    {"heldout": {"indices": [...], "reviewer", "rule", "frozen"} | null,
     "rounds": [{"round", "run_id", "model_id", "reviewer", "reviewed", "labelled_id",
                 "labelled_sentences", "heldout_f1", "heldout_size", "measure", "started", "finished"}],
     "order": {"round", "model_id", "measure", "scores": [[index, uncertainty], ...]} | null}

A round trains on the accepted and corrected sentences as the Review page of
its reviewer counts them (in blind mode the reviewer's own statuses and
annotations; otherwise the latest status by anyone, with the current spans),
minus the held-out slice, plus an optional labelled dataset; ``reviewed`` in a
history row is how many reviewed sentences it trained on. **The held-out slice** is
chosen once, when the first round starts: of the reviewer's reviewed sentences
taken in index order, every ``HELDOUT_EVERY``-th one starting with the first
(positions 0, 5, 10, …: never empty). It is frozen from then on: every round is
scored on the same sentences (with their current reviewed spans) and no round
trains on them. ``order`` is the unreviewed sentences ranked by the newest
round's model, most uncertain first; that model's predictions of the whole
dataset are cached before the order is published, so Review shows its spans
as suggestions. A round publishes its history row and its order in one write,
at its end: until then Review keeps the old ones."""
from __future__ import annotations

import fcntl
import json
import time
from contextlib import contextmanager
from typing import Optional

from tagger.core import Sentence, TaggerError
from tagger.core.files import atomic_write
from tagger.workspace import annotators, status
from tagger.workspace.store import Workspace

LOOP_FILE = "loop.json"
HELDOUT_EVERY = 5
HELDOUT_RULE = (f"every {HELDOUT_EVERY}th of the reviewer's reviewed sentences in index order "
                "(positions 0, 5, 10, …), chosen when the first round starts, then frozen")
REVIEWED = annotators.ANNOTATED  # the statuses a round trains on: accepted, corrected


def empty_state() -> dict:
    """The state of a dataset before any round."""
    return {"heldout": None, "rounds": [], "order": None}


def _path(ws: Workspace, dataset_id):
    return ws.root / "datasets" / ws.dataset(dataset_id)["id"] / LOOP_FILE


def state(ws: Workspace, dataset_id) -> dict:
    """The dataset's loop state (see the module's docstring); empty before any round."""
    path = _path(ws, dataset_id)
    if not path.is_file():
        return empty_state()
    try:
        return {**empty_state(), **json.loads(path.read_text(encoding="utf-8"))}
    except (OSError, ValueError) as err:
        raise TaggerError(f"{path}: the loop's state cannot be read ({err})") from None


@contextmanager
def _changing(ws: Workspace, dataset_id):
    """The state to change in place under the dataset's loop lock; written at once, whole, on exit."""
    path = _path(ws, dataset_id)
    with open(path.with_name(LOOP_FILE + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            st = state(ws, dataset_id)
            yield st
            atomic_write(path, json.dumps(st, ensure_ascii=False, indent=1).encode("utf-8"))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def reviewed(ws: Workspace, dataset_id, reviewer: Optional[str], blind: bool = False) -> dict[int, list]:
    """``{index: spans}`` of the accepted and corrected sentences as Review
    counts them: in blind mode ``reviewer``'s own, with their own annotation;
    otherwise the latest status by anyone, with the current spans
    (adjudicated, else the latest correction by anyone)."""
    did = ws.dataset(dataset_id)["id"]
    if blind:
        return annotators.annotations(ws, did, reviewer)
    mine = status.statuses(ws, did)
    sents = ws.corpus(did, corrected=True).sentences
    return {i: sorted(sents[i].spans) for i in sorted(mine) if mine[i]["status"] in REVIEWED}


def choose_heldout(indices) -> list[int]:
    """The held-out rule: every ``HELDOUT_EVERY``-th of ``indices`` in index order, from the first."""
    return sorted(indices)[::HELDOUT_EVERY]


def heldout(ws: Workspace, dataset_id, reviewed_indices, reviewer: Optional[str] = None) -> list[int]:
    """The dataset's frozen held-out slice; the first call with reviewed sentences chooses it."""
    with _changing(ws, dataset_id) as st:
        if st["heldout"] is None and reviewed_indices:
            st["heldout"] = {"indices": choose_heldout(reviewed_indices), "reviewer": status.clean_reviewer(reviewer),
                             "rule": HELDOUT_RULE, "frozen": time.time()}
        return list((st["heldout"] or {}).get("indices") or [])


def _labelled(ws: Workspace, dataset_id, granularity) -> list[Sentence]:
    d = ws.dataset(dataset_id)
    corpus = ws.corpus(d["id"], corrected=True)
    if corpus.granularity is None:
        raise TaggerError(f"{d['name']} is {corpus.format}: it has no entity labels to train on")
    if corpus.has_errors():
        raise TaggerError(f"{d['name']} has errors (see its validation report on the Data page)")
    if corpus.granularity != granularity:
        raise TaggerError(f"{d['name']} is labelled by {corpus.granularity}, the reviewed dataset by {granularity}")
    return list(corpus.sentences)


def round_data(ws: Workspace, dataset_id, reviewer: Optional[str], blind: bool = False,
               labelled_id=None) -> dict:
    """What a round trains on and is scored on: ``train`` (Sentences: the
    reviewed ones outside the held-out slice, then the labelled dataset's),
    ``heldout`` ({index: reviewed spans}), ``reviewed`` (how many reviewed
    sentences it trains on), ``labelled_sentences``, ``granularity``."""
    did = ws.dataset(dataset_id)["id"]
    corpus = ws.corpus(did)
    if corpus.granularity is None:
        raise TaggerError(f"{ws.dataset(did)['name']} has no entity labels: the loop needs a labelled dataset")
    done = reviewed(ws, did, reviewer, blind)
    held = set(heldout(ws, did, list(done), reviewer))
    mine = [Sentence(corpus.sentences[i].text, list(spans), id=corpus.sentences[i].id)
            for i, spans in done.items() if i not in held]
    extra = _labelled(ws, labelled_id, corpus.granularity) if labelled_id else []
    if len(mine) + len(extra) < 2:
        raise TaggerError(f"{len(done)} reviewed sentence(s), {len(held & set(done))} of them held out: accept or "
                          "correct a few more (or add a labelled training set) before retraining")
    heldout_spans = {i: spans for i, spans in done.items() if i in held}
    return {"train": mine + extra, "heldout": heldout_spans, "reviewed": len(mine),
            "labelled_sentences": len(extra), "granularity": corpus.granularity}


def unreviewed(ws: Workspace, dataset_id, reviewer: Optional[str] = None, blind: bool = False) -> list[int]:
    """Indices of the sentences not yet reviewed (by ``reviewer`` in blind mode, by anyone otherwise)."""
    did = ws.dataset(dataset_id)["id"]
    current = status.statuses(ws, did, status.clean_reviewer(reviewer) if blind else None)
    return [i for i in range(len(ws.corpus(did).sentences)) if i not in current]


def publish(ws: Workspace, dataset_id, row: dict, scores) -> dict:
    """Append the round's history ``row`` (its ``round`` number given here) and
    make ``scores`` [(index, uncertainty)], most uncertain first (the engine's
    order: it breaks ties of saturated scores), the new order, in one atomic write."""
    ranked = [(int(i), float(u)) for i, u in scores]
    with _changing(ws, dataset_id) as st:
        row = {**row, "round": len(st["rounds"]) + 1, "finished": row.get("finished") or time.time()}
        st["rounds"].append(row)
        st["order"] = {"round": row["round"], "model_id": row["model_id"], "measure": row["measure"],
                       "scores": [list(p) for p in ranked]}
    return row


def queue(st: dict, current: dict) -> list[tuple[int, float]]:
    """The published order without the sentences reviewed since (``current``:
    a ``status.statuses()`` result): [(index, uncertainty)], most uncertain first."""
    order = st.get("order") or {}
    return [(i, u) for i, u in order.get("scores") or [] if i not in current]


def order_rows(rows: list[dict], st: dict, current: dict) -> list[dict]:
    """``rows`` (dicts with an ``index``) with the queue first, most uncertain
    first, then the others in their own order."""
    rank = {i: k for k, (i, _) in enumerate(queue(st, current))}
    first = sorted((r for r in rows if r["index"] in rank), key=lambda r: rank[r["index"]])
    return first + [r for r in rows if r["index"] not in rank]


def history(st: dict) -> list[dict]:
    """The rounds as table rows, oldest first."""
    return [{"round": r["round"], "model": r["model_id"], "reviewed sentences": r["reviewed"],
             "labelled sentences": r.get("labelled_sentences", 0), "held-out F1": r["heldout_f1"],
             "held-out size": r["heldout_size"], "measure": r["measure"],
             "minutes": round((r["finished"] - r["started"]) / 60, 2) if r.get("started") else None}
            for r in st.get("rounds") or []]


def _heldout_f1(ws: Workspace, did: str, results: list[dict], gold: dict, granularity) -> Optional[float]:
    """Entity F1 of the predictions ``results`` on the held-out sentences' reviewed spans."""
    from tagger.scoring import score
    from tagger.workspace.evaluation import predicted_spans
    if not gold:
        return None
    sents = ws.corpus(did).sentences
    idx = sorted(gold)
    return score([Sentence(sents[i].text, list(gold[i])) for i in idx],
                 predicted_spans([results[i] for i in idx]), granularity)["entity_f1"]


def rank(model, texts: list[str], measure: Optional[str]) -> list[tuple[int, float]]:
    """[(position in ``texts``, uncertainty)] by ``model``, most uncertain first."""
    from tagger.tokenizers import get_tokenizer
    from tagger.training.active import rank_by_uncertainty
    if not texts:
        return []
    tokens = get_tokenizer(model.tokenizer).tokenize_many(list(texts), cache=True).tokens
    return [(int(p), float(u)) for p, u in rank_by_uncertainty(model, tokens, measure=measure)]


def finish_round(ws: Workspace, dataset_id, model_id: str, info: dict) -> dict:
    """After a round's model is registered: cache its predictions of every
    sentence (Review's suggestions), score it on the held-out slice (the
    slice's reviewed spans now), rank the sentences unreviewed now by its
    uncertainty and publish the history row and the order together. ``info``:
    the round's ``run_id``, ``reviewer``, ``blind``, ``reviewed``,
    ``labelled_id``, ``labelled_sentences``, ``measure``, ``started``."""
    from tagger.workspace import models as ws_models
    from tagger.workspace.evaluation import predictions
    did = ws.dataset(dataset_id)["id"]
    results = predictions(ws, model_id, did)  # written before the order names the model
    slice_ = set((state(ws, did)["heldout"] or {}).get("indices") or [])
    gold = {i: s for i, s in reviewed(ws, did, info.get("reviewer"), info.get("blind", False)).items() if i in slice_}
    todo = unreviewed(ws, did, info.get("reviewer"), info.get("blind", False))
    sents = ws.corpus(did).sentences
    ranked = rank(ws_models.load(ws, model_id), [sents[i].text for i in todo], info.get("measure"))
    row = {k: info.get(k) for k in ("run_id", "reviewer", "reviewed", "labelled_id", "labelled_sentences",
                                    "measure", "started")}
    row.update(model_id=model_id, heldout_size=len(gold),
               heldout_f1=_heldout_f1(ws, did, results, gold, ws.corpus(did).granularity))
    return publish(ws, did, row, [(todo[p], u) for p, u in ranked])
