"""Ensembles (and checkpoint averaging) on the KLUE-NER eval split, from tagger
directories that benchmarks/klue_ner.py trained. For every model, and for the
ensemble of all of them, it scores eval.tsv and times ``predict`` on its
1,000 texts (same process, same thread count, best of ``--repeats``):

    OMP_NUM_THREADS=1 python benchmarks/klue_ensemble.py \
        --models data/workspace/bench/char-crf-s1-average_top_k5 ... [--best-epoch] \
        [--out benchmarks/results/klue_ensemble.jsonl]
    python benchmarks/klue_ensemble.py --summary benchmarks/results/klue_ensemble.jsonl

``--best-epoch`` scores the same rows again with each run's best-epoch weights
(``best_state`` of its ``checkpoint.pt``: what the run ends with when it does
not average), so averaging is compared with the very run it came from.
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
from benchmarks.klue_ner import DATA  # noqa: E402


def load(directory: Path, best_epoch: bool):
    from tagger.models.saving import load_checkpoint
    from tagger.models.tagger import TaggerModel
    model = TaggerModel.load(directory)
    if best_epoch:
        model.module.load_state_dict(load_checkpoint(directory)["best_state"])
    return model


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


def rows(dirs: list[Path], best_epoch: bool, repeats: int) -> list[dict]:
    from tagger.corpus.load import load_corpus
    from tagger.models.ensemble import TaggerEnsemble
    corpus = load_corpus(DATA / "eval.tsv")
    models = [load(d, best_epoch) for d in dirs]
    weights = "best_epoch" if best_epoch else "final"
    out = []
    for d, m in zip(dirs, models):
        out.append({"what": "single", "weights": weights, "models": [d.name], **measure(m, corpus, repeats)})
    out.append({"what": f"ensemble of {len(models)}", "weights": weights, "models": [d.name for d in dirs],
                **measure(TaggerEnsemble(models), corpus, repeats)})
    return out


def summary(path: Path) -> str:
    rs = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    rs = [r for r in rs if "what" in r]
    lines = ["| what | weights | models | eval entity F1 | char macro F1 | predict eval.tsv: wall s | CPU s |",
             "|---|---|---|---|---|---|---|"]
    for r in rs:
        lines.append(f"| {r['what']} | {r['weights']} | {' '.join(r['models'])} | {r['entity_f1']:.4f} | "
                     f"{r['char_macro_f1']:.4f} | {r['predict_seconds']:.1f} | {r['predict_cpu_seconds']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=Path, nargs="+")
    ap.add_argument("--best-epoch", action="store_true", help="also score each run's best-epoch weights")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "klue_ensemble.jsonl")
    ap.add_argument("--summary", type=Path)
    args = ap.parse_args()
    if args.summary:
        print(summary(args.summary))
        return
    if not args.models:
        raise SystemExit("--models DIR [DIR ...] (tagger directories) is needed")
    if not (DATA / "eval.tsv").exists():
        raise SystemExit(f"KLUE split not found at {DATA}: it lives in ../shared/data beside the repo")
    command = " ".join(sys.argv[1:])
    for best in ([False, True] if args.best_epoch else [False]):
        for r in rows(args.models, best, args.repeats):
            r.update(threads=torch.get_num_threads(), command=command, date=time.strftime("%Y-%m-%d"))
            with open(args.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
            print(json.dumps(r, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
