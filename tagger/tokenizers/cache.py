"""Disk cache of analyses: SQLite at ``<workspace>/cache/tokens.sqlite``.

Key: (tokenizer name, version, SHA-1 of the sentence text).  Value: the token
list as compact JSON ``[[start, end, form, pos], ...]`` (the surface is the
text slice) plus an optional note: a non-empty note marks an analysis that was
not a normal one (a guarded run, a deterministic analyser error) so that a hit
is still reported as a fallback.  WAL mode and a busy timeout make it safe for
several processes; lookups and writes are batched.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Iterable, Optional

from tagger.settings import tokenizer_cache_path
from tagger.core import TaggerError, Token

_BATCH = 500


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def encode_tokens(tokens: list[Token]) -> str:
    rows = [[t.start, t.end, t.form, t.pos] for t in tokens]
    value = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: SQLite keeps UTF-8 only, so \u-escape it
        value = json.dumps(rows, separators=(",", ":"))
    return value


def decode_tokens(text: str, value: str) -> list[Token]:
    return [Token(text[s:e], s, e, f, p) for s, e, f, p in json.loads(value)]


class TokenCache:
    """One SQLite file; open per use (cheap) and close when done."""

    def __init__(self, path: Optional[Path] = None):
        self.path = Path(path) if path else tokenizer_cache_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), timeout=60)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS tokens (tok TEXT NOT NULL, ver TEXT NOT NULL,"
                " key TEXT NOT NULL, val TEXT NOT NULL, note TEXT,"
                " PRIMARY KEY (tok, ver, key)) WITHOUT ROWID")
            self.db.commit()
        except (OSError, sqlite3.Error) as err:
            raise TaggerError(f"{self.path}: cannot open the token cache: {err}") from None

    def get_many(self, tok: str, ver: str, keys: Iterable[str]) -> dict:
        """``{key: (value, note)}`` for the keys present."""
        keys = list(dict.fromkeys(keys))
        found: dict = {}
        for i in range(0, len(keys), _BATCH):
            part = keys[i:i + _BATCH]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                f"SELECT key, val, note FROM tokens WHERE tok=? AND ver=? AND key IN ({marks})",
                [tok, ver, *part])
            for key, val, note in rows:
                found[key] = (val, note)
        return found

    def put_many(self, tok: str, ver: str, items: Iterable[tuple]) -> None:
        """Store ``(key, value, note)`` triples in one transaction."""
        rows = [(tok, ver, k, v, n) for k, v, n in items]
        if not rows:
            return
        try:
            with self.db:
                self.db.executemany(
                    "INSERT OR REPLACE INTO tokens (tok, ver, key, val, note) VALUES (?,?,?,?,?)",
                    rows)
        except sqlite3.Error as err:
            raise TaggerError(f"{self.path}: cannot write the token cache: {err}") from None

    def count(self, tok: Optional[str] = None) -> int:
        if tok is None:
            return self.db.execute("SELECT COUNT(*) FROM tokens").fetchone()[0]
        return self.db.execute("SELECT COUNT(*) FROM tokens WHERE tok=?", (tok,)).fetchone()[0]

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
