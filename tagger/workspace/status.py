"""A review status per sentence: ``unreviewed`` (the default: no row),
``accepted`` (its current spans — the correction if any, else the file's —
are right), ``corrected`` (saved through ``correct``) or ``skipped``.

Statuses are versioned like corrections (append-only, the latest wins) and
every row names its reviewer, so each save is undoable and, later, two
reviewers' blind passes can be compared; for now a sentence's status is the
latest by anyone. The SQL beneath is in ``versions``."""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Optional

from tagger.core import TaggerError
from tagger.workspace import versions
from tagger.workspace.store import Workspace, spans_to_json

STATUSES = ("unreviewed", "accepted", "corrected", "skipped")
REVIEWED = STATUSES[1:]
clean_reviewer = versions.clean_reviewer


def check_status(status) -> str:
    text = str(status or "").strip().lower()
    if text not in STATUSES:
        raise TaggerError(f"{str(status)[:40]!r} is not a review status (one of {', '.join(STATUSES)})")
    return text


def set_status(ws: Workspace, dataset_id, index: int, status: str, reviewer: Optional[str] = None) -> int:
    """Record ``status`` for sentence ``index`` by ``reviewer`` (None or empty:
    the default reviewer); returns the status version."""
    did, index = ws.sentence(dataset_id, index)
    status, who = check_status(status), clean_reviewer(reviewer)
    with ws.db(write=True) as c:
        action = versions.log_action(c, did, index, who, "status")
        return versions.insert_status(c, did, index, status, who, action)


def accept(ws: Workspace, dataset_id, index: int, reviewer: Optional[str] = None) -> int:
    """The sentence's current spans (its correction if any, else the file's) are right."""
    return set_status(ws, dataset_id, index, "accepted", reviewer)


def skip(ws: Workspace, dataset_id, index: int, reviewer: Optional[str] = None) -> int:
    return set_status(ws, dataset_id, index, "skipped", reviewer)


def correct(ws: Workspace, dataset_id, index: int, spans, reviewer: Optional[str] = None) -> int:
    """Save ``spans`` as a new correction version and mark the sentence
    ``corrected``, in one transaction (one action: one undo takes back both).
    Returns the correction version."""
    did, index = ws.sentence(dataset_id, index)
    who = clean_reviewer(reviewer)
    with ws.db(write=True) as c:
        action = versions.log_action(c, did, index, who, "correct")
        v = versions.insert_correction(c, did, index, spans_to_json(spans), who, action)
        versions.insert_status(c, did, index, "corrected", who, action)
    return v


def statuses(ws: Workspace, dataset_id, reviewer: Optional[str] = None) -> dict[int, dict]:
    """``{index: {"status", "reviewer", "at"}}`` of every reviewed sentence: the
    latest status by anyone, or by ``reviewer`` alone when given. Sentences
    whose latest status is ``unreviewed`` (or that have none) are left out."""
    did = ws.dataset(dataset_id)["id"]
    by, args = ("AND reviewer=? ", (did, clean_reviewer(reviewer))) if reviewer else ("", (did,))
    rows = ws.query("SELECT sentence, status, reviewer, created, MAX(version) FROM statuses "
                    f"WHERE dataset_id=? {by}GROUP BY sentence", args)  # SQLite: the max row's columns
    return {r["sentence"]: {"status": r["status"], "reviewer": r["reviewer"], "at": r["created"]}
            for r in rows if r["status"] != "unreviewed"}


def status_of(current: dict, index: int) -> str:
    """The status of sentence ``index`` in a ``statuses()`` result."""
    return current.get(index, {}).get("status", "unreviewed")


def progress_text(counts: dict) -> str:
    """``312 of 1,000 reviewed: 250 accepted, 55 corrected, 7 skipped``."""
    return (f"{counts['reviewed']:,} of {counts['total']:,} reviewed: {counts['accepted']:,} accepted, "
            f"{counts['corrected']:,} corrected, {counts['skipped']:,} skipped")


def progress(ws: Workspace, dataset_id, reviewer: Optional[str] = None) -> dict:
    """``total``, ``reviewed``, a count per status and ``text`` (see
    ``progress_text``); by everyone, or by ``reviewer`` alone when given."""
    d = ws.dataset(dataset_id)
    return progress_of(statuses(ws, d["id"], reviewer), len(ws.corpus(d["id"]).sentences))


def progress_of(current: dict, total: int) -> dict:
    """``progress`` from a ``statuses()`` result and the number of sentences."""
    counts = Counter(s["status"] for s in current.values())
    out = {"total": total, "reviewed": sum(counts[s] for s in REVIEWED), **{s: counts[s] for s in REVIEWED}}
    out["unreviewed"] = total - out["reviewed"]
    out["text"] = progress_text(out)
    return out


def reviewer_counts(ws: Workspace, dataset_id) -> dict[str, dict]:
    """``{reviewer: {"accepted", "corrected", "skipped"}}``: each reviewer's own
    latest status per sentence (what they would have alone)."""
    did = ws.dataset(dataset_id)["id"]
    rows = ws.query("SELECT reviewer, status, MAX(version) FROM statuses WHERE dataset_id=? "
                    "GROUP BY reviewer, sentence", (did,))
    out: dict[str, dict] = {}
    for r in rows:
        mine = out.setdefault(r["reviewer"], dict.fromkeys(REVIEWED, 0))
        if r["status"] in mine:
            mine[r["status"]] += 1
    return {k: out[k] for k in sorted(out)}


def reviewed_datasets(ws: Workspace) -> list[str]:
    """Ids of the datasets with any status row, most recently reviewed first."""
    rows = ws.query("SELECT dataset_id, MAX(created) t FROM statuses GROUP BY dataset_id ORDER BY t DESC")
    return [r["dataset_id"] for r in rows]


def _undo(ws: Workspace, did: str, where: str, args: tuple) -> Optional[dict]:
    """Undo the newest action matching ``where``: {"index", "kind", "reviewer"} or None."""
    with ws.db(write=True) as c:
        while True:
            row = c.execute(f"SELECT * FROM review_actions WHERE dataset_id=? AND {where} "
                            "ORDER BY id DESC LIMIT 1", (did, *args)).fetchone()
            if row is None:
                return None
            kind = versions.undo_action(c, row)
            if kind:  # else an action whose rows were already dropped: look further back
                return {"index": row["sentence"], "kind": kind, "reviewer": row["reviewer"]}


def undo_last(ws: Workspace, dataset_id, reviewer: Optional[str] = None) -> Optional[dict]:
    """Take back ``reviewer``'s most recent action on the dataset — a status, a
    correction, or the pair ``correct`` made — and return ``{"index", "kind",
    "reviewer"}`` (kind: ``status``, ``correction`` or ``correct``), or None."""
    return _undo(ws, ws.dataset(dataset_id)["id"], "reviewer=?", (clean_reviewer(reviewer),))


def undo_sentence(ws: Workspace, dataset_id, index: int) -> Optional[dict]:
    """Take back the most recent action (by anyone) on sentence ``index``."""
    did, index = ws.sentence(dataset_id, index)
    return _undo(ws, did, "sentence=?", (index,))


def unreviewed_first(rows: Iterable[dict], current: dict) -> list[dict]:
    """``rows`` (dicts with an ``index``) with the unreviewed ones first, each
    group in its own order; ``current`` is a ``statuses()`` result."""
    rows = list(rows)
    return sorted(rows, key=lambda r: status_of(current, r["index"]) != "unreviewed")
