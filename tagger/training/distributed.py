"""Data-parallel training under ``torchrun`` (DistributedDataParallel); what
the epoch loops call, and nothing when ``WORLD_SIZE`` is unset or 1 (then
every helper is a no-op and no process group exists).

- ``session``: join the process group (gloo on CPU, NCCL on CUDA with each
  rank on ``cuda:LOCAL_RANK``), turn a dead or unreachable peer into one
  ``TaggerError`` line, leave the group at the end.
- ``wrap``: the module (or one of its methods, e.g. the tagger's ``loss``)
  in DDP, so that ``backward`` averages the gradients across ranks.
- ``share``: the factor that makes a per-rank *mean* loss average right
  when ranks hold unequal token counts (see its docstring).
- ``shard_batches``: the same shuffled batch list on every rank (same seed),
  padded to a multiple of the world size by repeating its first batches,
  rank r taking batches r, r+N, ...: equal step counts, every sentence seen.
- ``gather_shards`` / ``from_main`` / ``all_sum``: one dev figure on every rank.
- ``is_main`` / ``quiet``: only rank 0 prints and writes.
"""
from __future__ import annotations

import gc
import os
import re
import signal
import sys
import time
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from typing import Callable, Optional

import torch
import torch.distributed as dist

from tagger.core import TaggerError

STALL_ENV = "TAGGER_TEST_STALL"  # tests: "RANK:EPOCH:PIDFILE" makes that rank write its pid there and sleep
_state = {"device": torch.device("cpu")}


def world_size() -> int:
    return max(int(os.environ.get("WORLD_SIZE") or 1), 1)


def rank() -> int:
    return int(os.environ.get("RANK") or 0) if world_size() > 1 else 0


def is_main() -> bool:
    """Rank 0 (or no torchrun): the one process that prints, checkpoints and saves."""
    return rank() == 0


def active() -> bool:
    return world_size() > 1 and dist.is_available() and dist.is_initialized()


class _Stopped(TaggerError):
    """SIGTERM from the launcher: another rank failed (or the run was stopped)."""


def _on_sigterm(signum, frame):
    raise _Stopped(f"rank {rank()}: stopped by the launcher (another rank died or the run was stopped); "
                   "no model written")


@contextmanager
def session(device: torch.device):
    """Yields this rank's device inside the process group; one process: ``device``, nothing else."""
    if world_size() <= 1:
        yield device
        return
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK") or 0))
        torch.cuda.set_device(device)
    _state["device"] = device
    if not dist.is_initialized():
        try:
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo", timeout=timedelta(minutes=30))
        except (RuntimeError, ValueError) as e:
            raise TaggerError(f"rank {rank()}: could not join the other training processes: {_first_line(e)}")
    old, finished = signal.signal(signal.SIGTERM, _on_sigterm), False
    try:
        yield device
        finished = True
    except (RuntimeError, dist.DistError) as e:
        if not _peer_lost(e):
            raise
        raise TaggerError(f"rank {rank()}: another training process (rank/worker) died or lost its connection "
                          f"({_first_line(e)}); training stopped, no model written") from None
    finally:
        # A failing rank is on its way out with its own message: from here on the launcher's
        # SIGTERM (sent because this or another rank failed) must not cut that message short,
        # so it stays ignored; the launcher still ends the process with SIGKILL after its grace period.
        signal.signal(signal.SIGTERM, old if finished else signal.SIG_IGN)
        _leave(finished)


def _leave(finished: bool) -> None:
    """Leave the group for good. A DDP wrapper left in a reference cycle keeps the group
    (and gloo's threads) alive until interpreter shutdown, where destroying them aborts
    the process ("terminate called without an active exception"): collect it now. Ranks
    that finished wait for each other first, so none tears down a group still in use."""
    if finished:
        gc.collect()
        try:
            dist.barrier()
        except (RuntimeError, dist.DistError):
            pass  # a peer already gone: the launcher reports it
    dist.destroy_process_group()


def _first_line(e: BaseException) -> str:
    """The gist of a backend error: its first sentence, without gloo's ``[file.cc:N]`` prefix."""
    lines = [s.strip() for s in str(e).splitlines() if s.strip()]
    text = re.sub(r"^\[[^\]]*\.(cc|cpp|h):\d+\]\s*", "", lines[0] if lines else type(e).__name__)
    return text.split(". ")[0][:160]


def _peer_lost(e: BaseException) -> bool:
    text = str(e).lower()
    return isinstance(e, dist.DistError) or any(
        w in text for w in ("connection", "gloo", "nccl", "peer", "broken pipe", "timed out", "socket"))


# ---- the model --------------------------------------------------------------------
class _Method(torch.nn.Module):
    """``module.<name>(...)`` as ``forward``, so DDP sees the call that runs the model."""
    def __init__(self, module: torch.nn.Module, name: str):
        super().__init__()
        self.inner, self.name = module, name

    def forward(self, *args, **kw):
        return getattr(self.inner, self.name)(*args, **kw)


def wrap(module: torch.nn.Module, method: Optional[str] = None) -> Callable:
    """What a training step calls: ``module`` (or ``module.<method>``) itself in one
    process, in DDP under torchrun. Parameters stay the module's own, so the
    optimizer, checkpoints and saved models never see DDP's ``module.`` prefix."""
    if not active():
        return getattr(module, method) if method else module
    target = _Method(module, method) if method else module
    ids = [_state["device"].index] if _state["device"].type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(target, device_ids=ids)


def share(weight) -> Optional[torch.Tensor]:
    """``N * weight / sum(weight over ranks)``, or None in one process. DDP
    averages gradients over N ranks; a rank's loss is a mean over its own
    ``weight`` units (tokens), so multiplying it by this factor makes the
    averaged gradient the mean over *all* ranks' units: exactly the gradient
    of one process holding the union of the ranks' batches, even when the
    ranks hold unequal token counts. One all-reduce of one number per step."""
    if not active():
        return None
    w = torch.as_tensor(weight, dtype=torch.float64, device=_state["device"])
    total = w.clone()
    dist.all_reduce(total)
    return (w * dist.get_world_size() / total.clamp_min(1)).float()


def seed_ranks(seed: int, epoch: int) -> None:
    """Under DDP each rank draws its own dropout from (seed, rank, epoch); the batch order
    comes from the loop's generator, the same on every rank."""
    if active():
        torch.manual_seed(hash((seed, rank(), epoch)) & 0xFFFF_FFFF)


# ---- the data -----------------------------------------------------------------------
def shard_batches(batches: list) -> list:
    """This rank's batches of the (identical on every rank) list: padded to a
    multiple of the world size by repeating its first batches, then every N-th
    from this rank's offset. One process: the list itself."""
    if not active():
        return batches
    n = dist.get_world_size()
    padded = list(batches) + list(batches[:(-len(batches)) % n])
    while len(padded) % n:  # fewer batches than ranks
        padded += batches[:n - len(padded) % n]
    return padded[rank()::n]


def shard_tensor(t: torch.Tensor) -> torch.Tensor:
    """This rank's equal share of ``t`` (cycled to a multiple of the world size;
    rank r: r, r+N, ...). One process: ``t``."""
    if not active():
        return t
    n = dist.get_world_size()
    idx = torch.arange(rank(), -(-len(t) // n) * n, n) % max(len(t), 1)
    return t[idx]


def shard_rows(n_rows: int) -> list[int]:
    """This rank's share of ``n_rows`` independent items (rank r: r, r+N, ...)."""
    return list(range(rank(), n_rows, dist.get_world_size())) if active() else list(range(n_rows))


def gather_shards(fn: Callable[[list[int]], list], n_rows: int) -> list:
    """``fn(rows)`` on each rank's share of ``n_rows`` items, gathered in the original
    order on every rank (the tagger's dev predictions). One process: ``fn(all rows)``."""
    rows = shard_rows(n_rows)
    if not active():
        return fn(rows)
    parts: list = [None] * dist.get_world_size()
    dist.all_gather_object(parts, (rows, fn(rows)))
    out: list = [None] * n_rows
    for part_rows, values in parts:
        for r, v in zip(part_rows, values):
            out[r] = v
    return out


def from_main(fn: Callable[[], float]) -> float:
    """``fn()`` computed on rank 0 and broadcast: one figure on every rank."""
    if not active():
        return fn()
    value = torch.tensor([fn() if is_main() else 0.0], dtype=torch.float64, device=_state["device"])
    dist.broadcast(value, 0)
    return float(value.item())


def all_sum(*values) -> tuple:
    """The sums over ranks of a few numbers (floats back). One process: the numbers as floats."""
    if not active():
        return tuple(float(v) for v in values)
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=_state["device"])
    dist.all_reduce(t)
    return tuple(t.tolist())


# ---- output and tests ---------------------------------------------------------------
def quiet():
    """On ranks other than 0, stdout and stderr go nowhere inside the block
    (errors raised inside still reach the caller, which prints them)."""
    if is_main():
        return nullcontext()
    return _devnull()


@contextmanager
def _devnull():
    old = sys.stdout, sys.stderr
    with open(os.devnull, "w") as sink:
        sys.stdout = sys.stderr = sink
        try:
            yield
        finally:
            sys.stdout, sys.stderr = old


def test_stall(epoch: int) -> None:
    """A test hook: with ``TAGGER_TEST_STALL=RANK:EPOCH:PIDFILE`` that rank writes its pid
    to PIDFILE at the start of that epoch, once every rank is there, and sleeps (for a
    test to kill it)."""
    spec = os.environ.get(STALL_ENV)
    if not spec or not active():
        return
    r, e, path = spec.split(":", 2)
    if int(e) == epoch:
        dist.barrier()  # every rank has finished the epoch before (rank 0: its checkpoint written)
    if int(r) == rank() and int(e) == epoch:
        with open(path + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(path + ".tmp", path)
        time.sleep(600)


__all__ = ["session", "is_main", "active", "wrap", "share", "seed_ranks", "shard_batches", "shard_tensor", "shard_rows",
           "gather_shards", "from_main", "all_sum", "quiet", "world_size", "rank"]
