"""Ensembles (and checkpoint averaging) on the KLUE-NER eval split, from tagger
directories that benchmarks/klue_ner.py trained. Each ``--models`` entry is a
directory (its saved weights) or ``DIR:best`` (the best-epoch weights of that
run: ``best_state`` in its ``checkpoint.pt``, what the run ends with when it
does not average, so averaging is compared with the very run it came from).
For every distinct entry, and for the ensemble of all of them, it scores
eval.tsv and times ``predict`` on its 1,000 texts (same process, same thread
count; wall and CPU seconds, best of ``--repeats``):

    OMP_NUM_THREADS=1 python benchmarks/klue_ensemble.py \
        --models data/workspace/bench/char-crf-s{1,2,3}-average_top_k5 \
        [--out benchmarks/results/klue_ensemble.jsonl]
    python benchmarks/klue_ensemble.py --summary benchmarks/results/klue_ensemble.jsonl

eval.tsv is used for scores and timing only; no choice is made on it.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.klue_ner import DATA, append_row  # noqa: E402


def load(entry: str):
    """``DIR`` (the saved weights) or ``DIR:best`` (the run's best-epoch weights)."""
    from tagger.models.saving import load_checkpoint
    from tagger.models.tagger import TaggerModel
    directory, best = (entry[:-5], True) if entry.endswith(":best") else (entry, False)
    model = TaggerModel.load(directory)
    if best:
        model.module.load_state_dict(load_checkpoint(directory)["best_state"])
    return model


def name(entry: str) -> str:
    return Path(entry.removesuffix(":best")).name + (":best" if entry.endswith(":best") else "")


def measure(model, corpus, repeats: int) -> dict:
    from tagger import api
    texts = [s.text for s in corpus.sentences]
    model.predict(texts[:64])                        # warm up (and the tokenizer cache)
    seconds, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        model.predict(texts)
        seconds.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)   # this process's CPU time: less hurt by a busy machine
    scores = api.evaluate(model, corpus)
    return {"entity_f1": scores["entity_f1"], "char_macro_f1": scores["char_macro_f1"],
            "macro_f1": scores["macro_f1"], "predict_seconds": round(min(seconds), 2),
            "predict_cpu_seconds": round(min(cpu), 2), "sentences": len(texts)}


def rows(entries: list[str], repeats: int):
    """One row per distinct entry, then one for the ensemble of all entries."""
    from tagger.corpus.load import load_corpus
    from tagger.models.ensemble import TaggerEnsemble
    corpus = load_corpus(DATA / "eval.tsv")
    loaded = {e: load(e) for e in dict.fromkeys(entries)}
    for e, m in loaded.items():
        yield {"what": "single", "models": [name(e)], **measure(m, corpus, repeats)}
    if len(entries) > 1:
        yield {"what": f"ensemble of {len(entries)}", "models": [name(e) for e in entries],
               **measure(TaggerEnsemble([loaded[e] for e in entries]), corpus, repeats)}


def summary(path: Path) -> str:
    rs = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    rs = [r for r in rs if "what" in r]
    lines = ["| what | models | eval entity F1 | char macro F1 | predict eval.tsv: wall s | CPU s |",
             "|---|---|---|---|---|---|"]
    for r in rs:
        lines.append(f"| {r['what']} | {' '.join(r['models'])} | {r['entity_f1']:.4f} | "
                     f"{r['char_macro_f1']:.4f} | {r['predict_seconds']:.1f} | {r['predict_cpu_seconds']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", help="tagger directories; DIR:best = that run's best-epoch weights")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "klue_ensemble.jsonl")
    ap.add_argument("--summary", type=Path)
    args = ap.parse_args()
    if args.summary:
        print(summary(args.summary))
        return
    if not args.models:
        raise SystemExit("--models DIR [DIR[:best] ...] (tagger directories) is needed")
    if not (DATA / "eval.tsv").exists():
        raise SystemExit(f"KLUE split not found at {DATA}: it lives in ../shared/data beside the repo")
    command = " ".join(sys.argv[1:])
    for r in rows(args.models, args.repeats):
        r.update(threads=torch.get_num_threads(), command=command, date=time.strftime("%Y-%m-%d"))
        append_row(args.out, r)


if __name__ == "__main__":
    main()
