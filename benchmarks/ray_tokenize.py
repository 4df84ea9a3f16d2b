"""Kkma throughput: one local worker, the local 2-process pool, and Ray actors
on a local 2-CPU cluster (not a test; rerunnable; results in
benchmarks/results/ray_tokenize.md).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ray_tokenize.py [--data ../shared/data/klue-ner/train.tsv]
        [--limit N] [--calls 200]

Every configuration tokenizes the same sentences into a fresh workspace (cold
cache, ``TAGGER_WORKSPACE`` a new temp folder each time), after its JVMs were
started and warmed (timed apart).  Reported per run: wall seconds, sentences/s,
and CPU seconds of this process and of all its descendants (worker JVMs; for
Ray also raylet, GCS and the actors: ``ray.init`` starts them as children), read
from /proc before and after.  Then the Ray per-chunk overhead: round trips of
an empty chunk to a warm actor.  The machine is shared: compare CPU, not only wall.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHONPATH", str(ROOT))

from tagger import load_corpus  # noqa: E402
from tagger.tokenizers.kkma import KkmaTokenizer  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) of ``root`` and its living descendants."""
    stats = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                raw = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            f = raw[raw.rindex(")") + 2:].split()
            stats[int(d)] = (int(f[1]), (int(f[11]) + int(f[12])) / TICK)
    keep, total, grew = {root}, 0.0, True
    while grew:
        grew = False
        for pid, (ppid, _) in stats.items():
            if ppid in keep and pid not in keep:
                keep.add(pid)
                grew = True
    for pid in keep:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def measure(label: str, tok: KkmaTokenizer, texts: list, warm, **kw) -> dict:
    os.environ["TAGGER_WORKSPACE"] = tempfile.mkdtemp(prefix="raybench-")
    t0 = time.perf_counter()
    warm()
    start = time.perf_counter() - t0
    cpu0, own0, t0 = tree_cpu(os.getpid()), time.process_time(), time.perf_counter()
    res = tok.tokenize_many(texts, cache=True, timeout=60, **kw)
    wall = time.perf_counter() - t0
    cpu, own = tree_cpu(os.getpid()) - cpu0, time.process_time() - own0
    assert res.analyzed == len(texts), (res.analyzed, len(texts))
    r = dict(label=label, start=start, wall=wall, rate=len(texts) / wall, cpu=cpu, driver_cpu=own,
             tokens=res.tokens, fallbacks=len(res.fallbacks), load=os.getloadavg()[0])
    print(f"{label}: JVM start {start:.1f}s; {len(texts)} sentences in {wall:.1f}s = {r['rate']:.1f} sent/s; "
          f"CPU {cpu:.1f}s (this process {own:.1f}s) = {len(texts) / cpu:.1f} sent/CPU-s; "
          f"{r['fallbacks']} fallbacks; load {r['load']:.1f}", flush=True)
    return r


def chunk_overhead(pool, calls: int) -> float:
    import ray
    actor = pool.actors[0]
    ray.get(actor.analyse.remote([], 1.0))
    t0 = time.perf_counter()
    for _ in range(calls):
        ray.get(actor.analyse.remote([], 1.0))
    return (time.perf_counter() - t0) / calls


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "klue-ner" / "train.tsv"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args()
    texts = [s.text for s in load_corpus(args.data).sentences]
    texts = texts[:args.limit] if args.limit else texts
    print(f"{args.data}: {len(texts)} sentences, {len(set(texts))} distinct, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()}", flush=True)
    runs = []
    for n in (1, 2):
        tok = KkmaTokenizer()
        runs.append(measure(f"local, {n} worker(s)", tok, texts, lambda: tok.pool.warm(n), workers=n))
        tok.close()
    import ray
    from tagger.tokenizers.ray_pool import CHUNK, ray_pool
    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    print(f"ray.init (local cluster, 2 CPUs): {time.perf_counter() - t0:.1f}s", flush=True)
    tok = KkmaTokenizer()
    tok.use_ray("auto")
    pool = ray_pool("auto")
    runs.append(measure(f"Ray, 2 actors, chunks of {CHUNK}", tok, texts, lambda: pool.warm(2)))
    print(f"  chunk calls {pool.chunks}, pieces sent {pool.sent}, actors used {pool.used}", flush=True)
    over = chunk_overhead(pool, args.calls)
    print(f"Ray per-chunk overhead (empty chunk round trip, {args.calls} calls): {over * 1000:.2f} ms", flush=True)
    same = all(r["tokens"] == runs[0]["tokens"] for r in runs[1:])
    print(f"output identical across the three runs: {same}")
    tok.close()
    ray.shutdown()


if __name__ == "__main__":
    main()
