"""The workspace: everything the app keeps, in one folder.

``$TAGGER_WORKSPACE`` (default ``<repo>/data/workspace``) holds a SQLite
catalogue ``workspace.sqlite`` (WAL mode, safe for several processes and
browser sessions) and the files it names::

    datasets/<id>/original     the uploaded bytes, never modified
    models/<id>/               model.json + weights.pt (TaggerModel.save)
    runs/<id>/                 checkpoint.pt, worker.log of a training run
    predictions/<model>/<dataset>.json   cached predictions

Ids are short random strings (``d-…``, ``m-…``, ``r-…``); no function here
takes a path from the user. Corrections and statuses are versioned per sentence
(``versions``), per reviewer, and a sentence may have an adjudicated version
that wins over them; the uploaded original is never edited. No streamlit, no konlpy.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from tagger.core.files import atomic_write
from tagger.settings import SAMPLES_DIR, workspace_dir
from tagger.workspace import versions
from tagger.workspace.ids import check_id, check_upload_size, clean_name, storage_error
from tagger.workspace.memo import Memo
from tagger.core import Sentence, Span, TaggerError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (id TEXT PRIMARY KEY, name TEXT NOT NULL, source TEXT,
  format TEXT, encoding TEXT, sha256 TEXT, size INTEGER, created REAL, stats TEXT, note TEXT);
CREATE TABLE IF NOT EXISTS tokenizations (dataset_id TEXT, tokenizer TEXT, version TEXT,
  created REAL, stats TEXT, PRIMARY KEY (dataset_id, tokenizer));
CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, name TEXT, created REAL, started REAL,
  finished REAL, status TEXT, config TEXT, pid INTEGER, pid_start TEXT, device TEXT,
  progress TEXT, error TEXT, model_id TEXT);
CREATE TABLE IF NOT EXISTS run_epochs (run_id TEXT, epoch INTEGER, record TEXT,
  PRIMARY KEY (run_id, epoch));
CREATE TABLE IF NOT EXISTS run_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT,
  t REAL, text TEXT);
CREATE TABLE IF NOT EXISTS models (id TEXT PRIMARY KEY, name TEXT, created REAL, source TEXT,
  run_id TEXT, tokenizer TEXT, summary TEXT);
CREATE TABLE IF NOT EXISTS corrections (dataset_id TEXT, sentence INTEGER, version INTEGER,
  spans TEXT, created REAL, reviewer TEXT DEFAULT '', action INTEGER, adjudication TEXT,
  PRIMARY KEY (dataset_id, sentence, version));
CREATE TABLE IF NOT EXISTS statuses (dataset_id TEXT, sentence INTEGER, version INTEGER, status TEXT,
  reviewer TEXT DEFAULT '', created REAL, action INTEGER, PRIMARY KEY (dataset_id, sentence, version));
CREATE TABLE IF NOT EXISTS review_actions (id INTEGER PRIMARY KEY AUTOINCREMENT, dataset_id TEXT,
  sentence INTEGER, reviewer TEXT DEFAULT '', kind TEXT, created REAL);
CREATE INDEX IF NOT EXISTS review_actions_by ON review_actions (dataset_id, reviewer, id);
CREATE INDEX IF NOT EXISTS run_log_run ON run_log (run_id, seq);
"""
_READY: set[str] = set()
_CORPORA = Memo("corpora", size=16)  # dataset files never change under their path
_JSON_COLS = ("stats", "config", "progress", "summary", "record")


def new_id(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(5)}"


def _row(row: Optional[sqlite3.Row]) -> Optional[dict]:
    if row is None:
        return None
    out = dict(row)
    for key in _JSON_COLS:
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out


def spans_to_json(spans) -> str:
    return json.dumps([[s.start, s.end, s.label] for s in sorted(spans)], ensure_ascii=False)


def spans_from_json(text: str) -> list[Span]:
    return [Span(int(a), int(b), str(c)) for a, b, c in json.loads(text)]


class Workspace:
    """One workspace folder. Cheap to create: open one per request/process."""

    def __init__(self, root=None):
        self.root = Path(root) if root else workspace_dir()
        self.db_path = self.root / "workspace.sqlite"
        if str(self.db_path) not in _READY or not self.db_path.exists():
            self._init()
            _READY.add(str(self.db_path))

    def _init(self) -> None:
        try:
            for sub in ("datasets", "models", "runs", "predictions", "tmp"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.db_path), timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            versions.migrate(conn)  # an older workspace gains the newer columns
            conn.close()
        except (OSError, sqlite3.Error) as err:
            raise TaggerError(f"cannot open the workspace {self.root}: {err}") from None

    @contextmanager
    def db(self, write: bool = False):
        """One transaction; ``write`` locks first, so read-then-write steps never interleave."""
        conn = sqlite3.connect(str(self.db_path), timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=30000")
        try:
            with conn:
                if write:
                    conn.execute("BEGIN IMMEDIATE")
                yield conn
        finally:
            conn.close()

    def query(self, sql: str, args=()) -> list[dict]:
        with self.db() as c:
            return [_row(r) for r in c.execute(sql, args).fetchall()]

    def one(self, sql: str, args=()) -> Optional[dict]:
        with self.db() as c:
            return _row(c.execute(sql, args).fetchone())

    def execute(self, sql: str, args=()) -> None:
        with self.db() as c:
            c.execute(sql, args)

    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    # ---- datasets -------------------------------------------------------------
    def add_dataset(self, name: str, data: bytes, *, source: str = "upload", format: Optional[str] = None,
                    encoding: Optional[str] = None, note: str = "") -> tuple[dict, bool]:
        """Keep ``data`` byte for byte and catalogue it. Returns (dataset, created);
        the same bytes read the same way are not stored twice."""
        from tagger.corpus.load import load_corpus
        from tagger.corpus.validate import validate
        check_upload_size(name, len(data))
        sha = hashlib.sha256(data).hexdigest()
        for d in self.query("SELECT * FROM datasets WHERE sha256=?", (sha,)):
            if format in (None, d["format"]) and encoding in (None, d["encoding"]):
                return d, False
        did = new_id("d")
        folder = self.root / "datasets" / did
        try:
            folder.mkdir(parents=True)
            atomic_write(folder / "original", data)
            corpus = load_corpus(folder / "original", format=format, encoding=encoding)
            report = validate(corpus)
            stats = {k: report[k] for k in ("sentences", "tokens", "entities", "labels", "errors", "warnings")}
            self.execute("INSERT INTO datasets VALUES (?,?,?,?,?,?,?,?,?,?)",
                         (did, clean_name(name), source, corpus.format, corpus.encoding, sha, len(data),
                          time.time(), json.dumps(stats, ensure_ascii=False), note))
        except (TaggerError, OSError, sqlite3.Error) as err:
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(err, TaggerError):
                raise
            raise TaggerError(f"cannot store {clean_name(name)!r} in the workspace: {storage_error(err)}; "
                              "nothing was added") from None
        return self.dataset(did), True

    def add_sample(self, filename: str) -> tuple[dict, bool]:
        if filename not in self.samples():
            raise TaggerError(f"{filename!r} is not a bundled sample")
        return self.add_dataset(filename, (SAMPLES_DIR / filename).read_bytes(), source="sample")

    @staticmethod
    def samples() -> list[str]:
        return sorted(p.name for p in SAMPLES_DIR.iterdir() if p.is_file()) if SAMPLES_DIR.is_dir() else []

    def datasets(self) -> list[dict]:
        return self.query("SELECT * FROM datasets ORDER BY created DESC")

    def dataset(self, dataset_id) -> dict:
        did = check_id(dataset_id, "d")
        row = self.one("SELECT * FROM datasets WHERE id=?", (did,))
        if row is None:
            raise TaggerError(f"dataset {did} is not in this workspace (deleted?)")
        return row

    def dataset_file(self, dataset_id) -> Path:
        return self.root / "datasets" / self.dataset(dataset_id)["id"] / "original"

    def raw_bytes(self, dataset_id) -> bytes:
        return self.dataset_file(dataset_id).read_bytes()

    def raw_lines(self, dataset_id) -> list[str]:
        """The file's lines as decoded for display (1-based line n is index n-1)."""
        d = self.dataset(dataset_id)
        text = self.raw_bytes(dataset_id).decode(d["encoding"] or "utf-8", errors="replace")
        return [line.rstrip("\r") for line in text.lstrip("\ufeff").split("\n")]

    def corpus(self, dataset_id, corrected: bool = False):
        """The dataset as a Corpus (memoised per file); ``corrected`` gives each sentence
        its adjudicated version, else its latest correction, if any (a copy; the file stays)."""
        from tagger.corpus.load import load_corpus
        d = self.dataset(dataset_id)
        path = self.dataset_file(d["id"])
        key = (str(path), d["format"], d["encoding"])
        corpus = _CORPORA.get(key, lambda: load_corpus(path, format=d["format"], encoding=d["encoding"]))
        if not corrected:
            return corpus
        fixes = {**self.corrections(d["id"]), **{i: a["spans"] for i, a in self.adjudicated(d["id"]).items()}}
        if not fixes:
            return corpus
        sents = [_with_spans(s, fixes[i]) if i in fixes else s for i, s in enumerate(corpus.sentences)]
        out = corpus.replace(sents)
        out.problems = list(corpus.problems)
        return out

    def delete_dataset(self, dataset_id) -> None:
        did = self.dataset(dataset_id)["id"]
        with self.db() as c:
            for table in ("tokenizations", "corrections", "statuses", "review_actions"):
                c.execute(f"DELETE FROM {table} WHERE dataset_id=?", (did,))
            c.execute("DELETE FROM datasets WHERE id=?", (did,))
        shutil.rmtree(self.root / "datasets" / did, ignore_errors=True)
        for f in (self.root / "predictions").glob(f"*/{did}.json"):
            f.unlink(missing_ok=True)

    # ---- tokenizations ----------------------------------------------------------
    def record_tokenization(self, dataset_id, tokenizer: str, version: str, stats: dict) -> None:
        self.execute("INSERT OR REPLACE INTO tokenizations VALUES (?,?,?,?,?)",
                     (check_id(dataset_id, "d"), tokenizer, version, time.time(),
                      json.dumps(stats, ensure_ascii=False)))

    def tokenizations(self, dataset_id) -> list[dict]:
        return self.query("SELECT * FROM tokenizations WHERE dataset_id=? ORDER BY created DESC",
                          (check_id(dataset_id, "d"),))

    # ---- corrections --------------------------------------------------------------
    def corrections(self, dataset_id, reviewer: Optional[str] = None) -> dict[int, list[Span]]:
        """``{sentence index: spans}`` of the latest version of each corrected
        sentence, by anyone (adjudicated versions too); with ``reviewer``, that
        reviewer's own latest correction per sentence (their blind pass: never
        an adjudicated version, which is no one's pass)."""
        mine = ("AND reviewer=? AND adjudication IS NULL ", (versions.clean_reviewer(reviewer),)) if reviewer else ()
        return {i: r["spans"] for i, r in self._latest(dataset_id, *mine).items()}

    def adjudicated(self, dataset_id) -> dict[int, dict]:
        """``{sentence index: {"spans", "adjudicator", "how", "reviewers", "at", "version"}}``
        of the latest adjudicated version of each adjudicated sentence."""
        return {i: {"spans": r["spans"], "adjudicator": r["reviewer"], **json.loads(r["adjudication"]),
                    "at": r["created"], "version": r["version"]}
                for i, r in self._latest(dataset_id, "AND adjudication IS NOT NULL ").items()}

    def _latest(self, dataset_id, where: str = "", args=()) -> dict[int, dict]:
        """The latest correction row per sentence among those ``where`` admits."""
        rows = self.query("SELECT sentence, spans, reviewer, adjudication, created, MAX(version) version "
                          f"FROM corrections WHERE dataset_id=? {where}GROUP BY sentence",
                          (check_id(dataset_id, "d"), *args))  # SQLite: the max row's columns
        return {r["sentence"]: {**r, "spans": spans_from_json(r["spans"])} for r in rows}

    def correction_versions(self, dataset_id, index: int) -> int:
        row = self.one("SELECT COUNT(*) n FROM corrections WHERE dataset_id=? AND sentence=?",
                       (check_id(dataset_id, "d"), int(index)))
        return row["n"]

    def sentence(self, dataset_id, index) -> tuple[str, int]:
        """(dataset id, sentence index) once both are known to exist, else a TaggerError."""
        did = self.dataset(dataset_id)["id"]
        n = len(self.corpus(did).sentences)
        if not 0 <= int(index) < n:
            raise TaggerError(f"sentence {index} is not in dataset {did} ({n} sentences)")
        return did, int(index)

    def save_correction(self, dataset_id, index: int, spans, reviewer: str = "") -> int:
        """Store a new version of sentence ``index``'s entities by ``reviewer``
        (empty: the default reviewer); returns its number."""
        did, index = self.sentence(dataset_id, index)
        who = versions.clean_reviewer(reviewer)
        with self.db(write=True) as c:
            action = versions.log_action(c, did, index, who, "correction")
            return versions.insert_correction(c, did, index, spans_to_json(spans), who, action)

    def undo_correction(self, dataset_id, index: int) -> bool:
        """Drop the latest version of a sentence's correction; False when there is none."""
        with self.db(write=True) as c:
            return versions.drop_latest_correction(c, check_id(dataset_id, "d"), int(index))

    # ---- at a glance --------------------------------------------------------------
    def summary(self) -> dict:
        with self.db() as c:
            count = lambda t: c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]  # noqa: E731
            return {"datasets": count("datasets"), "runs": count("runs"), "models": count("models"),
                    "corrected_sentences": c.execute(
                        "SELECT COUNT(DISTINCT dataset_id || ':' || sentence) FROM corrections").fetchone()[0],
                    "reviewed_sentences": c.execute(versions.REVIEWED_SQL).fetchone()[0]}


def _with_spans(sentence: Sentence, spans) -> Sentence:
    from dataclasses import replace
    return replace(sentence, spans=sorted(spans))
