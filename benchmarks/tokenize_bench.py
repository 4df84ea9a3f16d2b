"""Tokenizer measurements on the KLUE NER split (not a test; rerunnable).

    .venv/bin/python benchmarks/tokenize_bench.py [--data ../shared/data/klue-ner]
        [--limit N] [--skip-coverage]

Reports: entity boundary coverage of every tokenizer on eval.tsv; Kiwi and
Kkma start-up time and sentences/s on eval.tsv (one worker/thread each); Kkma
sentences/s on train.tsv with 1 and 2 workers (JVMs started beforehand, start-up
timed apart); cold vs warm cache time on train.tsv (the warm run uses a fresh
tokenizer and must start no worker); alignment ms/sentence.  Uses a throw-away
workspace, so the real cache is untouched.  The KLUE reader here is ad hoc.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tagger.tokenizers import TOKENIZERS, entity_boundary_coverage, get_tokenizer  # noqa: E402
from tagger.tokenizers.align import align_analysis  # noqa: E402
from tagger.tokenizers.kiwi import KiwiTokenizer  # noqa: E402
from tagger.tokenizers.kkma import KkmaTokenizer  # noqa: E402
from tagger.core import Sentence, Span  # noqa: E402


def read_klue(path: Path, limit: int = 0) -> list[Sentence]:
    out, chars, tags = [], [], []

    def flush():
        if chars:
            out.append(Sentence("".join(chars), spans_of(tags)))
            chars.clear()
            tags.clear()
    for line in path.open(encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("## "):
            continue
        if not line:
            flush()
            continue
        ch, tag = line.split("\t")
        chars.append(ch)
        tags.append(tag)
    flush()
    return out[:limit] if limit else out


def spans_of(tags: list[str]) -> list[Span]:
    spans, start = [], None
    for i, tag in enumerate(tags + ["O"]):
        if start is not None and not tag.startswith("I-"):
            spans.append(Span(start, i, tags[start][2:]))
            start = None
        if tag.startswith("B-"):
            start = i
    return spans


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def coverage(ev: list[Sentence]) -> None:
    texts = [s.text for s in ev]
    for name in TOKENIZERS:
        res = get_tokenizer(name).tokenize_many(texts, workers=2)
        cov = entity_boundary_coverage(ev, res.tokens)
        print(f"coverage {name:10s} {cov['coverage']:.4f} ({cov['covered']}/{cov['entities']})"
              f"  fallbacks={len(res.fallbacks)}  {res.seconds:.1f}s")


def analyser_speed(texts: list[str]) -> None:
    """Kiwi (in-process, one thread) against Kkma (one worker): start-up and
    sentences/s, uncached, in this process one after the other."""
    kiwi = KiwiTokenizer()
    _, start = timed(lambda: kiwi.analyser(1))
    c0 = time.process_time()
    res, sec = timed(lambda: kiwi.tokenize_many(texts, cache=False, workers=1))
    cpu = time.process_time() - c0
    print(f"kiwi: start {start:.2f}s, {len(texts)} sentences in {sec:.2f}s = {len(texts) / sec:.0f} sent/s"
          f" (CPU {cpu:.2f}s = {len(texts) / cpu:.0f} sent/s of CPU; fallbacks {len(res.fallbacks)})")
    kkma = KkmaTokenizer()
    _, start = timed(lambda: kkma.pool.warm(1))
    before = worker_cpu(kkma)
    res, sec = timed(lambda: kkma.tokenize_many(texts, cache=False, workers=1))
    cpu = sum(b - a for a, b in zip(before, worker_cpu(kkma)))
    print(f"kkma: JVM start {start:.2f}s, {len(texts)} sentences in {sec:.2f}s = {len(texts) / sec:.0f} sent/s"
          f" (worker CPU {cpu:.1f}s = {len(texts) / max(cpu, 1e-9):.0f} sent/s of CPU)")
    kkma.close()


def worker_cpu(tok) -> list[float]:
    """CPU seconds used so far by each worker (Linux /proc; [] elsewhere)."""
    out = []
    for w in tok.pool.workers:
        try:
            fields = Path(f"/proc/{w.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return []
        out.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    return out


def throughput(texts: list[str]) -> tuple:
    """Sentences/s with 1 and 2 workers.  On a shared machine the wall-clock
    ratio mostly measures the neighbours, so the CPU seconds of every worker
    are shown too: with free cores the 2-worker wall time would be the busier
    worker's CPU time."""
    rates, cpus, tokens, cold = {}, {}, None, (0.0, 0.0)
    for n in (1, 2):
        tok = KkmaTokenizer()
        _, start = timed(lambda: tok.pool.warm(n))
        before, main0 = worker_cpu(tok), time.process_time()
        res, sec = timed(lambda: tok.tokenize_many(texts, workers=n, cache=(n == 2)))
        cpus[n] = [b - a for a, b in zip(before, worker_cpu(tok))]
        main_cpu = time.process_time() - main0
        rates[n] = len(texts) / sec
        print(f"kkma workers={n}: JVM start {start:.1f}s, {len(texts)} sentences in {sec:.1f}s"
              f" = {rates[n]:.1f} sent/s (workers used: {tok.pool.used},"
              f" fallbacks: {len(res.fallbacks)}; load average {os.getloadavg()[0]:.1f}"
              f" on {os.cpu_count()} cpus); worker CPU s {[round(c, 1) for c in cpus[n]]}")
        tokens = tokens if tokens is not None else res.tokens
        if n == 2:
            print(f"  workers=2 identical to workers=1: {res.tokens == tokens}")
            cold = (sec, sum(cpus[n]) + main_cpu)
        tok.close()
    print(f"  speed-up workers=2 / workers=1: {rates[2] / rates[1]:.2f}x wall-clock", end="")
    if cpus[1] and cpus[2]:
        print(f", {sum(cpus[1]) / max(cpus[2]):.2f}x by CPU time (free cores)", end="")
    print()
    return cold, tokens


def warm_cache(texts: list[str], cold: tuple) -> None:
    """Cold (2 workers, JVMs up) against warm (a fresh tokenizer, all hits):
    wall time, and CPU time (cold: both workers plus this process)."""
    fresh = KkmaTokenizer()
    c0 = time.process_time()
    res, sec = timed(lambda: fresh.tokenize_many(texts, workers=2))
    cpu = time.process_time() - c0
    print(f"cache: cold {cold[0]:.2f}s (2 workers, JVMs already up), warm {sec:.3f}s"
          f" = {cold[0] / sec:.0f}x faster by wall-clock; CPU cold {cold[1]:.1f}s, warm {cpu:.3f}s"
          f" = {cold[1] / cpu:.0f}x; warm run started {fresh.pool.starts} workers,"
          f" hits={res.cache_hits} analyzed={res.analyzed}")


def align_speed(texts: list[str], token_lists) -> None:
    morphs = [[(t.form, t.pos) for t in toks] for toks in token_lists]
    _, sec = timed(lambda: [align_analysis(t, m) for t, m in zip(texts, morphs)])
    mean_len = sum(map(len, texts)) / len(texts)
    print(f"alignment: {1000 * sec / len(texts):.3f} ms/sentence (mean {mean_len:.0f} chars)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "klue-ner"))
    ap.add_argument("--limit", type=int, default=0, help="use only the first N sentences")
    ap.add_argument("--skip-coverage", action="store_true")
    args = ap.parse_args()
    data = Path(args.data)
    os.environ["TAGGER_WORKSPACE"] = tempfile.mkdtemp(prefix="tokbench-")
    print(f"workspace {os.environ['TAGGER_WORKSPACE']}, cpus {os.cpu_count()}")
    try:
        if not args.skip_coverage:
            coverage(read_klue(data / "eval.tsv", args.limit))
            analyser_speed([s.text for s in read_klue(data / "eval.tsv", args.limit)])
        train = [s.text for s in read_klue(data / "train.tsv", args.limit)]
        cold, tokens = throughput(train)
        warm_cache(train, cold)
        align_speed(train, tokens)
    finally:
        get_tokenizer("kkma").close()
        shutil.rmtree(os.environ["TAGGER_WORKSPACE"], ignore_errors=True)


if __name__ == "__main__":
    main()
