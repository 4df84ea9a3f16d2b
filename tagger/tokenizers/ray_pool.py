"""Kkma on a Ray cluster: :class:`RayPool`, a drop-in for
:class:`~tagger.tokenizers.pool.WorkerPool` (the same ``run(jobs, size,
timeout)``), so :mod:`.kkma`'s guards, chunking, cache and fallbacks apply
unchanged and only the analyses travel.  Imported only when an address is set
(``tokenize --ray``, ``TAGGER_RAY_ADDRESS``): ``import tagger`` never imports ray.

* An actor (:class:`KkmaActor`, one CPU) holds one analyser: a one-worker
  :class:`WorkerPool`, i.e. one Kkma JVM running :mod:`.kkma_worker`'s
  ``analyse``, warmed once, with the same per-piece time bound (a stuck piece
  is killed and reported as ``timed out after Ns``, byte for byte the local
  path's).
* Pieces go out in chunks of ``chunk``, ``DEPTH`` chunks queued per actor;
  results come back in input order (a finished chunk waits for earlier ones).
* A chunk whose actor died (or failed) is retried once on a replacement actor
  started in its place; if it fails again every piece in it is reported
  (status ``died``: fallback tokens, not cached).  Nothing is lost.
* A chunk that outlives a generous deadline gets its actor killed, which turns
  it into the case above.
"""
from __future__ import annotations

import os
import threading
import time
from collections import deque
from itertools import chain, islice
from typing import Iterable, Iterator, Optional

import ray
from ray.exceptions import GetTimeoutError, RayError

from tagger.core import TaggerError
from tagger.settings import REPO_ROOT
from tagger.tokenizers.kkma_worker import START_TIMEOUT
from tagger.tokenizers.pool import WorkerPool

CHUNK = 16     # pieces per actor call: ~0.3-0.8 s of Kkma against ~1 ms of Ray overhead
DEPTH = 2      # chunks queued per actor, so none waits for the driver between chunks
TRIES = 2      # a chunk's attempts (the second on a replacement actor)


class KkmaActor:
    """One Kkma JVM (a worker process of a one-worker pool), warmed once."""

    def __init__(self, command: Optional[list] = None):
        self.pool = WorkerPool(command)
        self.pool.warm(1)

    def ready(self) -> int:
        return os.getpid()

    def analyse(self, texts: list, timeout: float) -> list:
        """``[status, payload]`` per text, in order (``WorkerPool.run``'s)."""
        out: list = [None] * len(texts)
        for i, status, payload in self.pool.run(enumerate(texts), 1, timeout):
            out[i] = [status, payload]
        return out


_Actor = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(KkmaActor)


def connect(address: str) -> None:
    """Join the cluster at ``address`` (``local``: start one here), unless
    this process already has (a test's ``ray.init``, an earlier call)."""
    if ray.is_initialized():
        return
    kw = dict(log_to_driver=False, logging_level="ERROR")
    if address == "local":
        kw["include_dashboard"] = False
    try:
        ray.init(address=None if address == "local" else address, **kw)
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise TaggerError(f"cannot join the Ray cluster at {address!r}: {_line(err)}") from None


def _line(err: BaseException) -> str:
    lines = [s.strip() for s in str(err).splitlines() if s.strip()]
    return (lines[-1] if lines else type(err).__name__)[:240]


class _Chunk:
    def __init__(self, no: int, jobs: list):
        self.no, self.keys = no, [k for k, _ in jobs]
        self.texts = [t for _, t in jobs]
        self.tries, self.slot, self.actor, self.deadline = 0, -1, None, 0.0


class RayPool:
    """Kkma actors on the cluster at ``address``, kept between calls.
    ``starts``: actors ever started; ``sent``: pieces sent out; ``chunks``:
    chunk calls made (retries included); ``used``: actors that answered in
    the last run.  ``command`` replaces the worker program (tests)."""

    def __init__(self, address: str = "auto", chunk: int = CHUNK,
                 command: Optional[list] = None):
        self.address, self.chunk, self.command = address, max(1, chunk), command
        self.actors: list = []
        self.starts = self.sent = self.chunks = self.used = 0
        self._lock = threading.Lock()    # tokenizer instances share the pool: one run at a time

    # ---- actors -------------------------------------------------------------
    def cluster_cpus(self) -> int:
        connect(self.address)
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def _spawn(self):
        self.starts += 1
        env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
        return _Actor.options(runtime_env={"env_vars": env}).remote(self.command)

    def warm(self, n: int) -> None:
        """Start actors until ``n`` are up and wait until all are ready."""
        connect(self.address)
        self.resize(n)
        fresh = []
        while len(self.actors) < n:
            self.actors.append(self._spawn())
            fresh.append(self.actors[-1])
        try:
            ray.get([a.ready.remote() for a in self.actors], timeout=START_TIMEOUT)
        except GetTimeoutError:
            self.close()
            raise TaggerError(f"no Kkma actor was ready within {START_TIMEOUT:g}s on the Ray cluster "
                              f"(fewer free CPUs than {n} actors?)") from None
        except RayError as err:
            self.close()
            raise TaggerError(f"Kkma could not start on the Ray cluster: {_line(err)}") from None

    def resize(self, n: int) -> None:
        while len(self.actors) > n:
            self._kill(self.actors.pop())

    def close(self) -> None:
        if ray.is_initialized():
            self.resize(0)
        self.actors = []

    @staticmethod
    def _kill(actor) -> None:
        try:
            ray.kill(actor, no_restart=True)
        except (RayError, ValueError):
            pass

    # ---- the run --------------------------------------------------------------
    def run(self, jobs: Iterable[tuple], size: int, timeout: float,
            force: bool = False) -> Iterator[tuple]:
        """Analyse ``(key, text)`` jobs on ``size`` actors (``size`` < 1: one
        per CPU of the cluster); yields ``(key, status, payload)`` in input
        order, as :meth:`WorkerPool.run` does (there: completion order)."""
        it = iter(jobs)
        first = next(it, None)
        if first is None and not force:      # nothing to analyse: no cluster, no JVM
            return
        with self._lock:
            self.warm(size if size >= 1 else self.cluster_cpus())
            if first is not None:
                yield from self._run(self._chunks(chain([first], it)), timeout)

    def _run(self, chunks: Iterator, timeout: float) -> Iterator[tuple]:
        inflight: dict = {}                  # ObjectRef -> _Chunk
        retry: deque = deque()
        done: dict = {}                      # chunk no -> [(key, status, payload)]
        answered: set = set()
        nxt = 0
        try:
            while True:
                self._submit(chunks, retry, inflight, timeout)
                if not inflight:
                    break
                for ref in self._wait(inflight):
                    self._settle(ref, inflight.pop(ref), retry, done, answered)
                while nxt in done:
                    yield from done.pop(nxt)
                    nxt += 1
        finally:
            for ref in inflight:             # abandoned mid-run: drop what is queued
                ray.cancel(ref)
        self.used = len(answered)

    def _chunks(self, jobs: Iterator) -> Iterator[_Chunk]:
        for no in range(1 << 62):
            part = list(islice(jobs, self.chunk))
            if not part:
                return
            yield _Chunk(no, part)

    def _submit(self, chunks: Iterator, retry: deque, inflight: dict, timeout: float) -> None:
        """Queue chunks (retries first) while an actor has fewer than DEPTH."""
        while True:
            load = [0] * len(self.actors)
            for c in inflight.values():
                load[c.slot] += c.actor is self.actors[c.slot]
            slot = min(range(len(load)), key=load.__getitem__)
            if load[slot] >= DEPTH:
                return
            c = retry.popleft() if retry else next(chunks, None)
            if c is None:
                return
            c.tries, c.slot, c.actor = c.tries + 1, slot, self.actors[slot]
            # one chunk queued ahead, each piece at most its bound plus a JVM restart
            c.deadline = time.monotonic() + START_TIMEOUT + DEPTH * len(c.texts) * (timeout + 30)
            inflight[c.actor.analyse.remote(c.texts, timeout)] = c
            self.sent += len(c.texts)
            self.chunks += 1

    def _wait(self, inflight: dict) -> list:
        """The refs that finished; an actor whose chunk is past its deadline is
        killed (its refs then finish as failed)."""
        wait = min(c.deadline for c in inflight.values()) - time.monotonic()
        ready, _ = ray.wait(list(inflight), num_returns=1, timeout=max(0.0, wait))
        if not ready:
            now = time.monotonic()
            for c in inflight.values():
                if c.deadline <= now:
                    c.deadline = float("inf")
                    self._kill(c.actor)
        return ready

    def _settle(self, ref, c: _Chunk, retry: deque, done: dict, answered: set) -> None:
        try:
            rows = ray.get(ref)
        except RayError as err:
            if self.actors[c.slot] is c.actor:          # replace the dead actor once
                self._kill(c.actor)
                self.actors[c.slot] = self._spawn()
            if c.tries < TRIES:
                retry.append(c)
            else:
                why = f"Kkma actor failed {c.tries} times ({_line(err)})"
                done[c.no] = [(k, "died", why) for k in c.keys]
            return
        answered.add(c.slot)
        done[c.no] = [(k, st, payload) for k, (st, payload) in zip(c.keys, rows)]


_SHARED: dict = {}


def ray_pool(address: str) -> RayPool:
    """The process's pool for the cluster at ``address``."""
    if address not in _SHARED:
        _SHARED[address] = RayPool(address)
    return _SHARED[address]
