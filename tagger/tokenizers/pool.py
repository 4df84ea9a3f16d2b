"""The parent side of the Kkma workers (:mod:`.kkma_worker`):
:class:`WorkerPool` runs N worker processes, one request in flight each, with
a deadline per request; a worker that misses it is killed (its whole process
group) and replaced, and the request is reported as timed out."""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from typing import Iterable, Iterator, Optional

from tagger.core import TaggerError
from tagger.settings import child_env
from tagger.tokenizers.kkma_worker import START_TIMEOUT


class _Worker:
    def __init__(self, command: list[str]):
        env = child_env()
        # one GC thread per worker JVM: N workers share the cores without
        # their collectors competing (measured: less CPU per sentence at N=2)
        env["JAVA_TOOL_OPTIONS"] = (env.get("JAVA_TOOL_OPTIONS", "") + " -XX:+UseSerialGC").strip()
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.err, env=env, start_new_session=True)
        self.fd = self.proc.stdout.fileno()
        self.buf = b""
        self.state = "starting"          # starting | idle | busy
        self.deadline = time.monotonic() + START_TIMEOUT
        self.job = None                  # (request id, key) while busy

    def send(self, req_id: int, key, text: str, timeout: float) -> None:
        self.state, self.job = "busy", (req_id, key)
        self.deadline = time.monotonic() + timeout
        try:
            self.proc.stdin.write((json.dumps({"id": req_id, "text": text}) + "\n").encode())
            self.proc.stdin.flush()
        except OSError:
            pass  # it died; the EOF on its stdout reports it

    def read(self):
        """Complete messages now readable; ``None`` at EOF."""
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            return None
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass      # not ours; the request it lacks an answer for times out
        return out

    def stderr_tail(self) -> str:
        try:
            self.err.seek(0)
            lines = self.err.read().decode("utf-8", "replace").strip().splitlines()
            return " | ".join(lines[-3:])
        except (OSError, ValueError):
            return ""

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        self.proc.wait()
        self.err.close()


class _Lookahead:
    """An iterator whose next item (``head``, None at the end) is known, so
    the pool sees the end of the jobs without an idle worker to ask."""

    def __init__(self, items: Iterable):
        self._it = iter(items)
        self.head = next(self._it, None)

    def pop(self):
        item, self.head = self.head, next(self._it, None)
        return item


class WorkerPool:
    """Kkma worker processes kept between calls. ``starts`` counts every
    worker ever launched (tests use it to prove a cache hit started none).
    ``command`` replaces the worker program (tests use a fake one)."""

    def __init__(self, command: Optional[list[str]] = None):
        self.command = command or [sys.executable, "-m", "tagger.tokenizers.kkma_worker"]
        self.workers: list[_Worker] = []
        self.starts = 0
        self.used = 0
        self._ever_ready = False
        self._req = 0

    def _spawn(self) -> _Worker:
        self.starts += 1
        return _Worker(self.command)

    def warm(self, n: int) -> None:
        """Start workers until ``n`` are running and wait until all are ready
        (benchmarks use it to time analysis apart from JVM start-up)."""
        list(self.run(iter(()), n, 1.0, force=True))

    def resize(self, n: int) -> None:
        while len(self.workers) > n:
            self.workers.pop().kill()

    def close(self) -> None:
        self.resize(0)

    def run(self, jobs: Iterable[tuple], size: int, timeout: float,
            force: bool = False) -> Iterator[tuple]:
        """Analyse ``(key, text)`` jobs on ``size`` workers; yields ``(key,
        status, payload)`` in completion order, status ``ok`` (payload: token
        rows), ``error`` (Kkma raised; payload: message), ``timeout`` or
        ``died`` (payload: reason).  ``used`` afterwards: how many workers
        answered.  ``force``: wait for every worker to be ready even without
        jobs."""
        jobs = _Lookahead(jobs)
        if jobs.head is None and not force:    # nothing to analyse: start no JVM
            return
        answered: set = set()
        self.used = 0
        while len(self.workers) < size:
            self.workers.append(self._spawn())
        sel = selectors.DefaultSelector()
        for w in self.workers[:size]:
            sel.register(w.fd, selectors.EVENT_READ, w)
        failures, ok = 0, False
        try:
            while True:
                self._feed(self.workers[:size], jobs, timeout)
                waiting = ("busy", "starting") if force else ("busy",)
                if jobs.head is None and not any(w.state in waiting
                                                  for w in self.workers[:size]):
                    ok = True
                    return
                for item in self._step(sel, size, timeout, answered):
                    if item[1] != "start-failed":
                        yield item
                        continue
                    failures += 1
                    if not self._ever_ready or failures > 3:
                        raise TaggerError(f"Kkma worker could not start: {item[2]}")
        finally:
            sel.close()
            # abandoned mid-request or failed: drop workers whose answer would be stale
            keep = [w for w in self.workers if w.state == "idle" or (ok and w.state == "starting")]
            for w in self.workers:
                if w not in keep:
                    w.kill()
            self.workers = keep

    def _step(self, sel, size: int, timeout: float, answered: set) -> list:
        """Wait for the next answer or deadline; return what happened."""
        active = self.workers[:size]
        wait = min(w.deadline for w in active if w.state != "idle") - time.monotonic()
        out = []
        for skey, _ in sel.select(max(0.0, wait)):
            got = self._on_readable(skey.data, sel)
            if got and got[0][1] == "ok":
                answered.add(id(skey.data))
                self.used = len(answered)
            out += got
        now = time.monotonic()
        for w in self.workers[:size]:
            if w.state != "idle" and now > w.deadline:
                why = (f"timed out after {timeout:g}s" if w.state == "busy"
                       else f"no answer within {START_TIMEOUT:g}s")
                out += self._replace(w, sel, "timeout", why)
        return out

    def _feed(self, active, jobs: "_Lookahead", timeout: float) -> None:
        """Give every idle worker a job while there are jobs."""
        for w in active:
            if w.state == "idle" and jobs.head is not None:
                key, text = jobs.pop()
                self._req += 1
                w.send(self._req, key, text, timeout)

    def _on_readable(self, w: _Worker, sel) -> list:
        msgs = w.read()
        if msgs is None:
            return self._replace(w, sel, "died", f"Kkma worker died ({w.stderr_tail()})")
        out = []
        for msg in msgs:
            if "ready" in msg:
                if not msg["ready"]:
                    why = f"{msg.get('error', '?')} ({w.stderr_tail()})"
                    return self._replace(w, sel, "died", why)
                w.state, self._ever_ready = "idle", True
            elif w.job and msg.get("id") == w.job[0]:
                key = w.job[1]
                w.state, w.job = "idle", None
                if msg["ok"]:
                    out.append((key, "ok", msg["t"]))
                else:
                    out.append((key, "error", f"Kkma error: {msg['error']}"))
        return out

    def _replace(self, w: _Worker, sel, status: str, why: str) -> list:
        """Kill ``w`` and start a fresh worker in its place; report its job
        (or, for a worker that never became ready, the start failure)."""
        job, was_starting = w.job, w.state == "starting"
        sel.unregister(w.fd)
        w.kill()
        fresh = self._spawn()
        self.workers[self.workers.index(w)] = fresh
        sel.register(fresh.fd, selectors.EVENT_READ, fresh)
        if was_starting:
            return [(None, "start-failed", why)]
        return [(job[1], status, why)] if job else []
