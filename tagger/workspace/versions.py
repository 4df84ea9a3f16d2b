"""The versioned review rows at the SQL level, beneath ``store`` and ``status``:
corrections and statuses are append-only (latest version wins), every row
names its reviewer, and each save is an *action* in ``review_actions`` that
ties together the rows it wrote, so one undo removes exactly that save.
An *adjudicated* version is a correction row whose ``adjudication`` column
says how it was decided (JSON: ``{"how": "pick"|"merge"|"edit", "reviewers":
[...]}``; NULL for a reviewer's own correction), written by the adjudicator
in an ``adjudicate`` action. Functions here take an open connection inside
the caller's transaction; nothing here imports the Workspace. Also: the
column migration of older workspaces and the cleaning of reviewer names."""
from __future__ import annotations

import re
import time
import unicodedata

from tagger import settings

REVIEWER_MAX = 60
# columns later code gave tables an older workspace already has: (table, column, declaration)
COLUMNS = (("corrections", "reviewer", "TEXT DEFAULT ''"), ("corrections", "action", "INTEGER"),
           ("corrections", "adjudication", "TEXT"))
ADJUDICATE = "adjudicate"  # the action kind of an adjudicated version
# sentences whose latest status (by anyone) is a review, across the workspace
REVIEWED_SQL = ("SELECT COUNT(*) FROM (SELECT status, MAX(version) FROM statuses "
                "GROUP BY dataset_id, sentence) WHERE status != 'unreviewed'")


def migrate(conn) -> None:
    """Add the missing ``COLUMNS`` (existing rows get the default): idempotent,
    under the write lock so two processes opening one workspace cannot race."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table, column, decl in COLUMNS:
            if column not in {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


def clean_reviewer(name=None) -> str:
    """A reviewer name as display text: control characters out, path separators
    made dashes, spaces collapsed, at most 60 characters; a name with nothing
    left is the default reviewer (``settings.default_reviewer``), never empty."""
    for raw in (name, settings.default_reviewer()):
        text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in str(raw or ""))
        text = " ".join(re.sub(r"[\\/]+", "-", text).split())[:REVIEWER_MAX].strip()
        if text.strip(".- "):
            return text
    return "reviewer"


def log_action(c, did: str, index: int, reviewer: str, kind: str) -> int:
    """A new action (``status``, ``correction``, ``correct`` or ``adjudicate``); returns its id."""
    return c.execute("INSERT INTO review_actions (dataset_id, sentence, reviewer, kind, created) "
                     "VALUES (?,?,?,?,?)", (did, index, reviewer, kind, time.time())).lastrowid


def _next_version(c, table: str, did: str, index: int) -> int:
    return c.execute(f"SELECT COALESCE(MAX(version), 0) FROM {table} WHERE dataset_id=? AND sentence=?",
                     (did, index)).fetchone()[0] + 1


def insert_correction(c, did: str, index: int, spans_json: str, reviewer: str, action: int,
                      adjudication: str | None = None) -> int:
    """Append a correction version of sentence ``index`` (an adjudicated one
    when ``adjudication`` says how it was decided); returns its number."""
    v = _next_version(c, "corrections", did, index)
    c.execute("INSERT INTO corrections (dataset_id, sentence, version, spans, created, reviewer, action, "
              "adjudication) VALUES (?,?,?,?,?,?,?,?)",
              (did, index, v, spans_json, time.time(), reviewer, action, adjudication))
    return v


def insert_status(c, did: str, index: int, status: str, reviewer: str, action: int) -> int:
    """Append a status version of sentence ``index``; returns its number."""
    v = _next_version(c, "statuses", did, index)
    c.execute("INSERT INTO statuses (dataset_id, sentence, version, status, reviewer, created, action) "
              "VALUES (?,?,?,?,?,?,?)", (did, index, v, status, reviewer, time.time(), action))
    return v


def undo_action(c, action) -> str | None:
    """Delete the rows ``action`` (a review_actions row) wrote and the action
    itself; returns what was undone: ``correct`` (both), ``correction``,
    ``adjudicate``, ``status``, or None when nothing of it was left."""
    key = (action["dataset_id"], action["sentence"], action["id"])
    where = "WHERE dataset_id=? AND sentence=? AND action=?"
    fixes = c.execute(f"DELETE FROM corrections {where}", key).rowcount
    marks = c.execute(f"DELETE FROM statuses {where}", key).rowcount
    c.execute("DELETE FROM review_actions WHERE id=?", (action["id"],))
    if fixes and marks:
        return "correct"
    if fixes and action["kind"] == ADJUDICATE:
        return ADJUDICATE
    return "correction" if fixes else "status" if marks else None


def drop_latest_correction(c, did: str, index: int) -> bool:
    """Delete the latest correction version of a sentence (whoever made it) and
    its action once nothing else of it is left; False when there is none."""
    row = c.execute("SELECT version, action FROM corrections WHERE dataset_id=? AND sentence=? "
                    "ORDER BY version DESC LIMIT 1", (did, index)).fetchone()
    if row is None:
        return False
    c.execute("DELETE FROM corrections WHERE dataset_id=? AND sentence=? AND version=?", (did, index, row[0]))
    if row[1] is not None and not c.execute("SELECT 1 FROM statuses WHERE action=? UNION ALL SELECT 1 FROM "
                                            "corrections WHERE action=?", (row[1], row[1])).fetchone():
        c.execute("DELETE FROM review_actions WHERE id=?", (row[1],))
    return True


def undo_latest_adjudication(c, did: str, index: int) -> bool:
    """Undo the action that wrote the latest adjudicated version of a sentence
    (an earlier one, if any, is current again); False when there is none."""
    row = c.execute("SELECT a.* FROM corrections f JOIN review_actions a ON a.id = f.action "
                    "WHERE f.dataset_id=? AND f.sentence=? AND f.adjudication IS NOT NULL "
                    "ORDER BY f.version DESC LIMIT 1", (did, index)).fetchone()
    return row is not None and undo_action(c, row) is not None
