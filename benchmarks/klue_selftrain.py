"""Self-training on unlabelled text (issue 14): a teacher tagger trained on
train.tsv tags KoNLPy's own text (kolaw + kobill, 2,929 sentences, no gold);
the sentences it is sure of (every unit's marginal >= ``--min-confidence``)
join the gold training sentences, and students train on both:

    OMP_NUM_THREADS=1 python benchmarks/klue_selftrain.py \
        --teacher data/workspace/bench/char-crf-s1-average_top_k5 --seeds 1 2 3 \
        [--min-confidence 0.9] [--out benchmarks/results/klue_selftrain.jsonl]

The dev set is exactly the engine's own holdout of train.tsv (every 10th
sentence, ``holdout_split``), passed as ``--dev``, so the students pick their
epoch on gold alone, like the baseline; silver never enters dev. The baseline
with the same explicit files (no silver) is ``--baseline``. eval.tsv scores
each run once. The files go to the git-ignored workspace, never the repo.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.klue_ner import DATA, append_row, run_one  # noqa: E402


def silver(teacher: str, min_confidence: float) -> tuple[list, dict]:
    """KoNLPy's sentences as tagged by ``teacher``, those it is sure of."""
    from tagger import api
    from tagger.core import Sentence, Span
    from tagger.corpus.konlpy_text import konlpy_sentences
    model = api.load_model(teacher)
    texts = konlpy_sentences()
    kept, entities = [], 0
    for text, r in zip(texts, model.predict(texts)):
        if r["tokens"] and min(t["confidence"] for t in r["tokens"]) >= min_confidence:
            spans = [Span(e["start"], e["end"], e["label"]) for e in r["entities"]]
            kept.append(Sentence(text, spans))
            entities += len(spans)
    return kept, {"unlabelled": len(texts), "kept": len(kept), "silver_entities": entities,
                  "min_confidence": min_confidence, "teacher": Path(teacher).name}


def write_files(work: Path, extra: list) -> tuple[Path, Path]:
    """train (gold minus the holdout, plus ``extra``) and dev (the holdout) files."""
    from tagger.corpus.load import load_corpus, new_corpus, write_corpus
    from tagger.training.hooks import holdout_split
    gold = load_corpus(DATA / "train.tsv").sentences
    train, dev = holdout_split(gold, 0.1)
    work.mkdir(parents=True, exist_ok=True)
    paths = work / f"train+{len(extra)}silver.tsv", work / "dev.tsv"
    write_corpus(new_corpus(train + extra, "klue"), paths[0])
    write_corpus(new_corpus(dev, "klue"), paths[1])
    return paths


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--teacher", help="a tagger directory trained on train.tsv")
    ap.add_argument("--baseline", action="store_true", help="the same explicit train/dev files, no silver")
    ap.add_argument("--min-confidence", type=float, default=0.9)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--set", dest="settings", action="append", default=[])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "klue_selftrain.jsonl")
    ap.add_argument("--workdir", type=Path, default=ROOT / "data" / "workspace" / "bench")
    args = ap.parse_args()
    if not (DATA / "train.tsv").exists():
        raise SystemExit(f"KLUE split not found at {DATA}: it lives in ../shared/data beside the repo")
    if not args.teacher and not args.baseline:
        raise SystemExit("--teacher DIR (self-training) or --baseline is needed")
    extra, info = silver(args.teacher, args.min_confidence) if args.teacher else ([], {"kept": 0})
    print(json.dumps(info, ensure_ascii=False), flush=True)
    files = write_files(args.workdir / "selftrain", extra)
    name = f"self{info['kept']}" if extra else "split"
    for seed in args.seeds:
        r = run_one("char", "crf", seed, args.settings, args.workdir, data=files, name=name)
        r.update(selftrain=info, script=" ".join(sys.argv[1:]), date=time.strftime("%Y-%m-%d"))
        append_row(args.out, r)


if __name__ == "__main__":
    main()
