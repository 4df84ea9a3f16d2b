"""Kkma in worker subprocesses, so that the main process never loads a JVM.

Worker side (``python -m tagger.tokenizers.kkma_worker``): start Kkma once,
say ``{"ready": true}``, then answer one JSON line per request line
``{"id": n, "text": "..."}`` with ``{"id": n, "ok": true, "t": [[start, end,
form, pos], ...]}`` (already aligned to the text) or ``{"id": n, "ok": false,
"error": "..."}``.  Its real stdout is kept for the protocol and fd 1 is
pointed at stderr, so nothing Java prints can corrupt it.

The parent side, a pool of such workers, is :mod:`tagger.tokenizers.pool`.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time

START_TIMEOUT = 180.0   # seconds for a JVM to start and load Kkma's dictionaries
_PLACEHOLDER = "\ue000"  # stands in for characters Kkma's bridge cannot return


# ---------------------------------------------------------------- worker side
def _bmp_safe(text: str) -> str:
    """Kkma/JPype fail on characters outside the BMP (emoji); one placeholder
    per code point keeps every offset."""
    if all(ord(c) < 0xD800 or 0xE000 <= ord(c) < 0x10000 for c in text):
        return text
    return "".join(c if ord(c) < 0xD800 or 0xE000 <= ord(c) < 0x10000 else _PLACEHOLDER
                   for c in text)


def analyse(kkma, text: str) -> list:
    from tagger.tokenizers.align import align_analysis
    safe = _bmp_safe(text)
    out = []
    for form, pos, s, e in align_analysis(safe, kkma.pos(safe)):
        if safe is not text and _PLACEHOLDER in form and safe[s:e] == form:
            form = text[s:e]
        out.append([s, e, form, pos])
    return out


def _exit_with_parent() -> None:
    """Stop when the parent is gone, even in the middle of a long analysis."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(2)
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()


def main() -> int:
    _exit_with_parent()
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def send(obj) -> None:
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    try:
        from konlpy.tag import Kkma
        kkma = Kkma()
        kkma.pos("시작합니다")
    except BaseException as err:  # no Java, no konlpy, JVM failure
        send({"ready": False, "error": f"{type(err).__name__}: {err}"})
        return 1
    send({"ready": True, "pid": os.getpid()})
    for line in sys.stdin.buffer:
        req = json.loads(line)
        try:
            send({"id": req["id"], "ok": True, "t": analyse(kkma, req["text"])})
        except Exception as err:  # Java exceptions arrive as Python ones
            send({"id": req["id"], "ok": False, "error": f"{type(err).__name__}: {err}"[:300]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
