"""The workspace's one memo: loaded models, parsed corpora and evaluations
kept in memory per process, so that a page rerun does not redo them.

Every memo has one rule: the key names everything the value depends on (a
file's path with its modification time, a dataset id, a correction stamp),
so a value never goes stale under its key, and the least recently used
entry goes first once a memo is full. Thread-safe: Streamlit serves each
session from its own thread. ``clear_all()`` empties every memo (tests)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable

_ALL: list["Memo"] = []


class Memo:
    def __init__(self, name: str, size: int):
        self.name, self.size = name, size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        _ALL.append(self)

    def get(self, key: Hashable, compute: Callable[[], object]):
        """The value under ``key``, computed (outside the lock) when absent."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def clear_all() -> None:
    for memo in _ALL:
        memo.clear()
