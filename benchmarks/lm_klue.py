"""Perplexity of add-k and Kneser-Ney n-grams (orders 2-4), the window LM and
LSTM/GRU LMs on the sentence text of the shared KLUE-NER split (train ->
eval, tags ignored), Kkma morphemes. Writes a Markdown table.

    .venv/bin/python benchmarks/lm_klue.py [--epochs 6] [--out benchmarks/results/lm_klue.md]

The n-grams count the whole train text; the neural LMs hold out every 10th
train line for early stopping, so eval.tsv never picks an epoch or setting.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

import tagger  # noqa: E402
from tagger.lm import LMDataConfig, LMTrainConfig, NgramConfig, RNNLMConfig, WindowConfig, train_lm  # noqa: E402
from tagger.lm.common import tokenize_lines  # noqa: E402
from tagger.training.tagger import Callback  # noqa: E402

SHARED = Path(os.environ.get("TAGGER_SHARED_DATA", ROOT.parent / "shared" / "data")) / "klue-ner"


class Log(Callback):
    def on_message(self, text):
        print(text, file=sys.stderr, flush=True)

    def on_epoch(self, r):
        print(f"  epoch {r['epoch']} loss {r['loss']:.3f} dev ppl {r['dev_perplexity']:.2f} "
              f"{r['train_seconds']:.0f}s", file=sys.stderr, flush=True)


def models(args):
    hidden = args.hidden
    for k in ("addk", "kn"):
        for n in (2, 3, 4):
            yield f"{'add-k (k=0.01)' if k == 'addk' else 'Kneser-Ney'} {n}-gram", "ngram", NgramConfig(n, k, 0.01)
    yield f"window FFNN (n=4, emb 64, hidden {hidden}, dropout {args.dropout})", "window", \
        WindowConfig(4, 64, hidden, args.dropout)
    for cell in args.cells.split(","):
        yield (f"{cell.upper()} LM ({args.layers}x{hidden}, tied, dropout {args.dropout})", "rnn",
               RNNLMConfig(cell, hidden, hidden, args.layers, args.dropout, True))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--tokenizer", default="kkma")
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--batch-size", type=int, default=16, help="RNN: parallel stream columns")
    ap.add_argument("--cells", default="lstm,gru")
    ap.add_argument("--only", help="comma-separated kinds to run (ngram,window,rnn)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "lm_klue.md"))
    args = ap.parse_args()
    torch.set_num_threads(1)  # a shared 2-core machine: two spinning threads are far slower
    train = [s.text for s in tagger.load_corpus(SHARED / "train.tsv").sentences if s.text.strip()]
    held = [s.text for s in tagger.load_corpus(SHARED / "eval.tsv").sentences if s.text.strip()]
    t0 = time.perf_counter()
    tokenize_lines(train + held, args.tokenizer)  # fills the cache once
    print(f"tokenized {len(train)} + {len(held)} lines in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    rows, unseen = [], None
    only = set(args.only.split(",")) if args.only else None
    tc = LMTrainConfig(epochs=args.epochs, device="cpu", batch_size=args.batch_size, bptt=35, lr=args.lr, patience=2)
    for name, kind, cfg in models(args):
        if only and kind not in only:
            continue
        print(name, file=sys.stderr, flush=True)
        t = time.perf_counter()
        lm = train_lm(train, None, kind=kind, tokenizer=args.tokenizer, config=cfg, train_config=tc,
                      data_config=LMDataConfig(min_freq=2), callbacks=[Log()])
        seconds = time.perf_counter() - t
        r = lm.evaluate(held)
        if kind == "ngram" and cfg.order == 4 and cfg.smoothing == "kn":
            unseen = r["unseen_ngrams"]
        rows.append((name, r, seconds, lm.meta.get("best_epoch")))
        print(f"  perplexity {r['perplexity']:.2f}  bits/char {r['bits_per_char']:.4f}  {seconds:.0f}s",
              file=sys.stderr, flush=True)
    write(Path(args.out), rows, unseen, args, len(train), len(held))
    return 0


def write(path: Path, rows, unseen, args, n_train, n_held) -> None:
    r0 = rows[0][1]
    cmd = ".venv/bin/python benchmarks/lm_klue.py" + "".join(
        f" --{k} {v}" for k, v in (("epochs", args.epochs), ("hidden", args.hidden), ("layers", args.layers),
                                   ("dropout", args.dropout), ("lr", args.lr), ("batch-size", args.batch_size),
                                   ("cells", args.cells), ("only", args.only)) if v)
    lines = [f"# Language models on KLUE-NER sentence text ({args.tokenizer} morphemes)", "",
             f"Command: `{cmd}`", "",
             f"Train: `../shared/data/klue-ner/train.tsv` ({n_train} lines); held out: `eval.tsv` ({n_held} lines, "
             f"{r0['tokens']} predicted tokens incl. one `</s>` per line, {r0['characters']} characters incl. line "
             f"ends). Vocabulary from train, tokens seen once are `<unk>` (min_freq 2): vocabulary {r0['vocab_size']}, "
             f"held-out OOV rate {r0['oov_rate']:.2%}, `<unk>` probability counted. CPU, one thread.", "",
             "| model | perplexity | bits/char | train s | best epoch |", "|---|---:|---:|---:|---:|"]
    for name, r, sec, best in rows:
        lines.append(f"| {name} | {r['perplexity']:.2f} | {r['bits_per_char']:.4f} | {sec:.0f} | {best or '–'} |")
    if unseen:
        lines += ["", "Held-out n-grams never seen in training (sparsity), by order: "
                  + ", ".join(f"{n}-gram {v:.1%}" for n, v in unseen.items()) + "."]
    lines += ["", "n-grams count the whole train text; the neural LMs hold out every 10th train line for early "
              f"stopping (patience 2, Adam lr {args.lr}, clip 1.0; RNN: {args.batch_size} stream columns, BPTT 35, "
              "dropout between layers only: input, stacked layers, output; never recurrent). Settings were chosen on that held-out train part, never on eval.tsv.", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
