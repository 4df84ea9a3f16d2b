"""How cost grows with corpus size: time and peak memory of tokenize (cold
cache), one training epoch and predict, at 1k, 4k, 7.9k and 20k sentences.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/growth.py [--sizes 1000 4000 7929 20000]
        [--tokenizer kiwi] [--out benchmarks/results/growth.json]

The sentence pool, in this order: the shared KLUE-NER train and eval text
(5,000 labelled sentences), then KoNLPy's ``kolaw`` and ``kobill`` corpora
split into sentences (2,929, unlabelled: they train as all-``O``); 7,929
distinct sentences in all. A size above that cycles the pool (20k = the pool
2.5 times): a tokenizer analyses each distinct text once, so the tokenize
figure at 20k is 7,929 analyses plus 12,071 repeats, and ``distinct`` says so.

Every (stage, size) runs in a fresh subprocess so that its peak RSS
(``ru_maxrss``) is its own; ``rss_start_mb`` is the RSS after imports and
loading the text, before the stage. Stages:
  tokenize  ``--tokenizer`` (default kiwi) with a throw-away cache (cold),
            one worker; the analyser's start-up is timed apart
  train     char units, default model (BiLSTM 2x128 + CRF): encode, then one
            epoch of the engine's ``_Loop.train_pass`` (timed apart)
  predict   ``TaggerModel.predict`` of an untrained default-shape model over
            the same text (char tokenization included; speed does not depend
            on the weights)
Writes the JSON and a PNG plot (matplotlib) beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("TAGGER_SHARED_DATA", ROOT.parent / "shared" / "data")) / "klue-ner"


def pool() -> list:
    """(Sentence, source) pairs: KLUE train, KLUE eval, then KoNLPy sentences."""
    from konlpy.corpus import kobill, kolaw
    from tagger.corpus.load import load_corpus
    from tagger.core.units import split_sentences
    from tagger.core import Sentence
    out = [(s, "klue") for f in ("train.tsv", "eval.tsv") for s in load_corpus(DATA / f).sentences]
    for corpus in (kolaw, kobill):
        for fid in corpus.fileids():
            out += [(Sentence(t), "konlpy") for t in split_sentences(corpus.open(fid).read())]
    return out


def take(n: int) -> list:
    p = pool()
    return [p[i % len(p)][0] for i in range(n)]


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def stage_tokenize(sents, tokenizer: str) -> dict:
    from tagger.tokenizers import get_tokenizer
    os.environ["TAGGER_WORKSPACE"] = tempfile.mkdtemp(prefix="growth-")     # cold cache
    tok = get_tokenizer(tokenizer)
    t0 = time.perf_counter()
    tok.analyser(1) if hasattr(tok, "analyser") else tok.pool.warm(1) if hasattr(tok, "pool") else None
    start = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    res = tok.tokenize_many([s.text for s in sents], cache=True, workers=1)
    sec, cpu = time.perf_counter() - t0, time.process_time() - c0
    tok.close()
    return {"seconds": sec, "cpu_seconds": cpu, "start_seconds": start, "analyzed": res.analyzed, "tokenizer": tokenizer,
            "tokens": sum(map(len, res.tokens))}


def _model(sents):
    from tagger.models.encoding import DataConfig
    from tagger.models.tagger import Tagger, TaggerConfig
    from tagger.tokenizers import get_tokenizer
    from tagger.models.saving import TaggerModel
    from tagger.training.tagger import prepare
    tok = get_tokenizer("char")
    types = sorted({sp.label for s in sents for sp in s.spans})
    t0 = time.perf_counter()
    vocabs, enc_tr, enc_dv, _ = prepare(sents, sents[:1], tok, None, types, [], DataConfig(), bigrams=True)
    encode_s = time.perf_counter() - t0
    module = Tagger(TaggerConfig(), vocabs.sizes(), vocabs.tags)
    return TaggerModel(module, vocabs, "char", tok.version, {"granularity": "char"}), enc_tr, enc_dv, encode_s


def stage_train(sents) -> dict:
    import torch
    from tagger.training.tagger import Callback, TrainConfig, _Loop
    torch.manual_seed(1)
    model, enc_tr, enc_dv, encode_s = _model(sents)
    loop = _Loop(model, enc_tr, enc_dv, sents[:1], TrainConfig(), [Callback()], torch.device("cpu"))
    loop.epoch = 1
    c0 = time.process_time()
    _, tokens, sec = loop.train_pass()
    return {"seconds": sec, "cpu_seconds": time.process_time() - c0, "encode_seconds": encode_s, "tokens": tokens,
            "max_length": int(enc_tr.lengths.max()), "encoded_mb": _encoded_mb(enc_tr)}


def _encoded_mb(enc) -> float:
    """Bytes held by the encoded split (before the ragged storage: the padded tensors)."""
    if hasattr(enc, "nbytes"):
        return enc.nbytes() / 2**20
    return sum(t.numel() * t.element_size() for t in enc.tensors.values()) / 2**20


def stage_predict(sents) -> dict:
    model, _, _, _ = _model(sents[:1000])
    texts = [s.text for s in sents]
    t0, c0 = time.perf_counter(), time.process_time()
    out = model.predict(texts)
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0, "tokens": sum(len(r["tokens"]) for r in out)}


def child(stage: str, n: int, tokenizer: str) -> None:
    sents = take(n)
    if stage != "tokenize":
        import torch  # noqa: F401  (in the baseline: the stage's growth is what is left)
    start = rss_mb()
    r = {"tokenize": lambda: stage_tokenize(sents, tokenizer), "train": lambda: stage_train(sents),
         "predict": lambda: stage_predict(sents)}[stage]()
    r.update(stage=stage, sentences=n, distinct=len({s.text for s in sents}), rss_start_mb=start,
             peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(r))


def plot(rows: list, path: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for stage in ("tokenize", "train", "predict"):
        rs = sorted((r for r in rows if r["stage"] == stage), key=lambda r: r["sentences"])
        xs = [r["sentences"] for r in rs]
        a.plot(xs, [r["cpu_seconds"] for r in rs], "o-", label=stage)
        b.plot(xs, [r["peak_rss_mb"] for r in rs], "o-", label=stage)
    a.set(xlabel="sentences", ylabel="CPU seconds", title="CPU time (1 thread; wall time in the JSON)")
    b.set(xlabel="sentences", ylabel="MB", title="peak RSS of the process")
    a.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 7929, 20000])
    ap.add_argument("--stages", nargs="+", default=["tokenize", "train", "predict"])
    ap.add_argument("--tokenizer", default="kiwi")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "growth.json")
    ap.add_argument("--child", nargs=2, metavar=("STAGE", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child[0], int(args.child[1]), args.tokenizer)
    rows = []
    for stage in args.stages:
        for n in args.sizes:
            p = subprocess.run([sys.executable, __file__, "--child", stage, str(n), "--tokenizer", args.tokenizer],
                               capture_output=True, text=True, cwd=ROOT)
            if p.returncode != 0:
                raise SystemExit(f"{stage} at {n} failed:\n{p.stderr[-2000:]}")
            rows.append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    meta = {"date": time.strftime("%Y-%m-%d"), "command": " ".join(sys.argv),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "load_average": os.getloadavg()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    png = args.out.with_suffix(".png")
    print(f"wrote {args.out}" + (f" and {png}" if plot(rows, png) else " (matplotlib missing: no plot)"))


if __name__ == "__main__":
    main()
