"""A char-level POS tagger trained on a silver corpus (Kkma's analysis of
KoNLPy's kolaw + kobill corpora, split into sentences, plus the sentence text
of the shared KLUE train split), scored against Kkma on held-out text, with
its speed next to Kkma's. Writes benchmarks/results/pos_silver.md.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pos_silver.py [--epochs 12] [--crf]

Held out: every 5th KoNLPy sentence, and the KLUE eval text. The silver files
are written to the git-ignored workspace (data/workspace/pos_silver/), never
committed. Training and scoring go through the CLI, as a user would.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KLUE = Path(os.environ.get("TAGGER_SHARED_DATA", ROOT.parent / "shared" / "data")) / "klue-ner"

import tagger  # noqa: E402
from tagger.corpus.load import new_corpus, write_corpus  # noqa: E402
from tagger.corpus.konlpy_text import konlpy_sentences  # noqa: E402
from tagger.training.silver import silver_pos  # noqa: E402
from tagger.tokenizers import get_tokenizer  # noqa: E402


def build(work: Path) -> dict:
    ko = konlpy_sentences()
    klue_tr = [s.text for s in tagger.load_corpus(KLUE / "train.tsv").sentences]
    klue_ev = [s.text for s in tagger.load_corpus(KLUE / "eval.tsv").sentences]
    parts = {"train": [t for i, t in enumerate(ko) if i % 5 != 4] + klue_tr,
             "eval_konlpy": ko[4::5], "eval_klue": klue_ev}
    stats = {}
    for name, texts in parts.items():
        sentences, st = silver_pos(texts, progress=None)
        write_corpus(new_corpus(sentences, "klue"), work / f"{name}.tsv")
        stats[name] = st
        print(f"{name}: {st}", file=sys.stderr, flush=True)
    return stats


def speed(model_dir: Path, texts: list[str]) -> dict:
    """Sentences/s of the trained char tagger and of Kkma (cache off), one process each side."""
    model = tagger.load_model(model_dir)
    model.predict(texts[:32])  # warm
    t = time.perf_counter()
    model.predict(texts, batch_size=64)
    ours = len(texts) / (time.perf_counter() - t)
    kkma = get_tokenizer("kkma")
    kkma.tokenize_many(texts[:5], cache=False)  # JVM start excluded
    t = time.perf_counter()
    kkma.tokenize_many(texts, cache=False, workers=1)
    theirs = len(texts) / (time.perf_counter() - t)
    kkma.close()
    return {"tagger_sentences_per_s": ours, "kkma_sentences_per_s": theirs, "sentences": len(texts)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--crf", action="store_true", help="CRF head (default: softmax; ~100 B-/I-POS tags make the CRF slow)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "pos_silver.md"))
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    work = ROOT / "data" / "workspace" / "pos_silver"
    work.mkdir(parents=True, exist_ok=True)
    stats = build(work)
    model = work / "model"
    cmd = [sys.executable, "-m", "tagger", "train", "--train", str(work / "train.tsv"), "--tokenizer", "char",
           "--epochs", str(args.epochs), "--crf" if args.crf else "--no-crf", "--device", "cpu", "--overwrite",
           "--out", str(model)]
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True)
    train_s = time.perf_counter() - t
    scores = {}
    for name in ("eval_konlpy", "eval_klue"):
        p = subprocess.run([sys.executable, "-m", "tagger", "evaluate", "--model", str(model), "--data",
                            str(work / f"{name}.tsv"), "--json"], cwd=ROOT, check=True, capture_output=True, text=True)
        scores[name] = json.loads(p.stdout)
    sp = speed(model, [s.text for s in tagger.load_corpus(work / "eval_klue.tsv").sentences])
    write(Path(args.out), stats, scores, sp, train_s, json.loads((model / "model.json").read_text()), args)
    return 0


def write(path, stats, scores, sp, train_s, meta, args) -> None:
    tags = len({t[2:] for t in meta["tags"] if t != "O"})
    lines = ["# Char-level POS tagger on a silver Kkma corpus", "",
             f"Command: `OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pos_silver.py --epochs {args.epochs}"
             f"{' --crf' if args.crf else ''}` "
             f"({time.strftime('%Y-%m-%d')}, CPU, one thread, shared 2-core machine)", "",
             f"Silver corpus: Kkma (char+kkma alignment) over KoNLPy kolaw + kobill split into sentences "
             f"(4/5 train) plus the KLUE train text: {stats['train']['sentences']} training sentences, "
             f"{tags} POS tags as B-/I- per character; {sum(s['fallbacks'] for s in stats.values())} "
             "sentences Kkma could not analyse were left out.", "",
             "| held-out text | sentences | char accuracy vs Kkma | morpheme (span+POS) F1 |", "|---|---:|---:|---:|"]
    for name, s in scores.items():
        lines.append(f"| {name.replace('eval_', '')} | {s['sentences']} | {s['accuracy']:.4f} | {s['entity_f1']:.4f} |")
    head = "CRF" if meta["tagger_config"]["use_crf"] else "softmax (BIO-constrained decoding)"
    lines += ["", f"Model: the default char tagger with a {head} head. Training: {len(meta['history'])} epochs "
              f"(best {meta['best_epoch']}), {train_s:.0f} s wall including tokenization.", "",
              f"Speed on the {sp['sentences']} KLUE eval sentences (after warm-up, no cache): this tagger "
              f"{sp['tagger_sentences_per_s']:.0f} sentences/s; Kkma {sp['kkma_sentences_per_s']:.1f} sentences/s "
              f"({sp['tagger_sentences_per_s'] / sp['kkma_sentences_per_s']:.0f}x).", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
