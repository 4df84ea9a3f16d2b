"""Sentence-classifier defaults on a task built from the shared KLUE-NER split
(nothing copied into the repo): a sentence's label is ``PS`` when it contains
a person entity, ``none`` otherwise. Each setting is trained with
``train_classifier`` (what ``classify-train`` calls) on train.tsv with every
10th sentence held out for early stopping (the default: no ``--dev``), then
scored on eval.tsv: accuracy, macro F1, wall and CPU time. The choice of a
default reads the held-out (dev) accuracy only; eval.tsv is reported.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/classifier_defaults.py            # the grid
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/classifier_defaults.py --grid ""  # the defaults only

A setting is ``key=value,...`` (keys of ``ClassifierConfig`` and
``TrainConfig``) applied over the current defaults; settings are separated
by ``;`` and the empty setting is the defaults themselves. Rows are appended to
``benchmarks/results/classifier_defaults.jsonl``; the Markdown table shows the
latest row per setting.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from dataclasses import asdict, fields, replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from tagger.corpus.load import load_corpus  # noqa: E402
from tagger.core import Sentence  # noqa: E402
from tagger.models.classifier import Classifier, ClassifierConfig, ClassifierModel, tokens_of  # noqa: E402
from tagger.models.vocab import Vocab  # noqa: E402
from tagger.training.classifier import train_classifier  # noqa: E402
from tagger.training.tagger import Callback, TrainConfig, holdout_split  # noqa: E402

SHARED = Path(os.environ.get("TAGGER_SHARED_DATA", ROOT.parent / "shared" / "data")) / "klue-ner"
RESULTS = ROOT / "benchmarks" / "results"
GRID = ("; pooling=max; hidden_size=64; hidden_size=256; dropout=0.5; dropout=0.1; lr=0.001; lr=0.005; "
        "patience=3")


def person_task(path: Path) -> list[Sentence]:
    """Each sentence's text labelled ``PS`` (it has a person entity) or ``none``."""
    return [Sentence(s.text, label="PS" if any(sp.label == "PS" for sp in s.spans) else "none")
            for s in load_corpus(path).sentences if s.text.strip()]


def configs(setting: str) -> tuple[ClassifierConfig, TrainConfig]:
    model_keys = {f.name: f.type for f in fields(ClassifierConfig)}
    m, t = {}, {}
    for kv in filter(None, (s.strip() for s in setting.split(","))):
        k, v = kv.split("=")
        val = v if not v.replace(".", "").replace("e-", "").isdigit() else (float(v) if "." in v or "e" in v
                                                                           else int(v))
        (m if k in model_keys else t)[k] = val
    return replace(ClassifierConfig(), **m), replace(TrainConfig(), **t)


class EvalEveryEpoch(Callback):
    """eval.tsv accuracy of each epoch's weights (from its checkpoint), for reporting only:
    with it, the outcome of a smaller patience or epoch cap is read off one run's history."""

    def __init__(self, model: ClassifierModel, test: list, test_tokens: list):
        self.model, self.test, self.test_tokens, self.acc = model, test, test_tokens, []

    def on_checkpoint(self, state: dict) -> None:
        self.model.module.load_state_dict(state["state"])
        self.acc.append(self.model.evaluate(self.test, self.test_tokens)["accuracy"])


def stopped(dev_acc: list, patience: int, cap: int) -> tuple[int, int]:
    """(the epoch whose weights the loop keeps, the epochs it runs) under ``patience`` and ``cap``,
    read off a longer run's dev accuracies (the loop's rule: stop after ``patience`` epochs
    without a strictly better score)."""
    best, best_epoch, bad, e = -1.0, 0, 0, 0
    for e, a in enumerate(dev_acc[:cap], 1):
        if a > best:
            best, best_epoch, bad = a, e, 0
        else:
            bad += 1
        if bad >= patience:
            break
    return best_epoch, e


def run_one(setting: str, train: list, test: list) -> dict:
    cfg, tc = configs(setting)
    fit, dev = holdout_split(list(train), tc.dev_fraction)  # what train_classifier does without a dev set
    vocab = Vocab.build((t for toks in tokens_of([s.text for s in fit], "char") for t in toks), cfg.min_freq)
    labels = sorted({s.label for s in fit})
    shadow = ClassifierModel(Classifier(cfg, len(vocab), len(labels)), vocab, labels, "char", "")
    cb = EvalEveryEpoch(shadow, test, tokens_of([s.text for s in test], "char"))
    load0, t0, c0 = os.getloadavg()[0], time.perf_counter(), time.process_time()
    model = train_classifier(fit, dev, tokenizer="char", config=cfg, train_config=tc, callbacks=[cb])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert model.vocab.itos == vocab.itos and model.labels == labels
    ev = model.evaluate(test)
    hist, threads = model.meta["history"], os.environ.get("OMP_NUM_THREADS", "(unset)")
    dev_acc = [h["dev_accuracy"] for h in hist]
    assert abs(cb.acc[model.meta["best_epoch"] - 1] - ev["accuracy"]) < 1e-9  # the shadow saw the same weights
    other = {}
    for p in (2, 3, 5):
        if p < tc.patience:
            keep, ran = stopped(dev_acc, p, tc.epochs)
            other[f"patience {p}"] = {"epoch": keep, "epochs_run": ran, "dev_accuracy": dev_acc[keep - 1],
                                      "eval_accuracy": cb.acc[keep - 1],
                                      "train_s": sum(h["train_seconds"] for h in hist[:ran])}
    return {"setting": setting.strip() or "(defaults)", "dev_accuracy": model.meta["dev_scores"]["accuracy"],
            "dev_macro_f1": model.meta["dev_scores"]["macro_f1"], "eval_accuracy": ev["accuracy"],
            "eval_macro_f1": ev["macro_f1"], "best_epoch": model.meta["best_epoch"], "epochs_run": len(hist),
            "wall_s": wall, "cpu_s": cpu, "load_before": load0, "load_after": os.getloadavg()[0],
            "dev_curve": dev_acc, "eval_curve": cb.acc, "smaller_patience": other,
            "epoch_seconds": [h["train_seconds"] for h in hist],
            "classifier_config": asdict(cfg), "train_config": asdict(tc), "date": date.today().isoformat(),
            "threads": torch.get_num_threads(), "command": f"OMP_NUM_THREADS={threads} " + shlex.join(
                [".venv/bin/python", "benchmarks/classifier_defaults.py", *sys.argv[1:]])}


def write(path: Path, rows: list[dict], train: list, test: list) -> None:
    pos = lambda xs: sum(s.label == "PS" for s in xs)  # noqa: E731
    dates = ", ".join(sorted({r["date"] for r in rows}))
    note = ("Each setting is applied over `ClassifierConfig()` and `TrainConfig()` of the day: the default "
            "pooling was `final` until 2026-11-30, `max` since (the pooling column says which ran).")
    lines = [f"# Classifier defaults: person-entity sentences from KLUE-NER ({dates})",
             "", "Command(s): " + "; ".join(f"`{c}`" for c in sorted({r['command'] for r in rows})), "",
             f"Task: label `PS` when a sentence has a person entity, else `none`; train.tsv: {len(train)} "
             "sentences "
             f"({pos(train)} PS), eval.tsv {len(test)} ({pos(test)} PS; the majority label scores "
             f"{max(pos(test), len(test) - pos(test)) / len(test):.4f}). Char tokens (the default), every 10th "
             "train sentence held out for early stopping on dev accuracy; settings are chosen on dev accuracy, "
             "eval.tsv is reported. "
             "The patience-3 column is read off the same run (its dev accuracies, and eval.tsv scored "
             "after every epoch for this purpose only). " + note, "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs, "
             f"torch {torch.__version__}, "
             "1 thread, CPU. Wall s depends on the neighbours (load average per row); CPU s is this process's.", "",
             "| setting (over the defaults of the day) | pooling | dev acc | eval acc | eval macro F1 | epochs (best) "
             "| wall s | CPU s | "
             "train s/epoch | patience 3 instead: dev / eval acc, epochs (best) | load before/after |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        p3 = r["smaller_patience"].get("patience 3")
        p3 = (f"{p3['dev_accuracy']:.4f} / {p3['eval_accuracy']:.4f}, {p3['epochs_run']} ({p3['epoch']})"
              if p3 else "–")
        lines.append(f"| {r['setting']} | {r['classifier_config']['pooling']} | {r['dev_accuracy']:.4f} | "
                     f"{r['eval_accuracy']:.4f} | "
                     f"{r['eval_macro_f1']:.4f} | {r['epochs_run']} ({r['best_epoch']}) | {r['wall_s']:.0f} | "
                     f"{r['cpu_s']:.0f} | {sum(r['epoch_seconds']) / len(r['epoch_seconds']):.0f} | {p3} | "
                     f"{r['load_before']:.1f}/{r['load_after']:.1f} |")
    d = rows[-1]
    lines += ["", f"Settings of the last row: `{json.dumps(d['classifier_config'])}`, training "
              f"`{json.dumps({k: d['train_config'][k] for k in ('epochs', 'batch_size', 'lr', 'patience', 'clip')})}`."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def latest(jsonl: Path) -> list[dict]:
    """The JSONL rows, the latest per setting (and pooling: the default moved)."""
    rows = {}
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows[(r["setting"], r["classifier_config"]["pooling"])] = r
    return list(rows.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", default=GRID)
    ap.add_argument("--train-lines", type=int, default=0, help="the first N train.tsv sentences (0: all)")
    ap.add_argument("--out", default=str(RESULTS / "classifier_defaults.md"))
    ap.add_argument("--jsonl", default=str(RESULTS / "classifier_defaults.jsonl"))
    ap.add_argument("--table", action="store_true", help="only rewrite the table from the JSONL rows")
    args = ap.parse_args()
    torch.set_num_threads(1)
    train, test = person_task(SHARED / "train.tsv"), person_task(SHARED / "eval.tsv")
    train = train[:args.train_lines] if args.train_lines else train
    if args.table:
        return write(Path(args.out), latest(Path(args.jsonl)), train, test) or 0
    for setting in args.grid.split(";"):
        row = run_one(setting, train, test)
        print(json.dumps(row), flush=True)
        with open(args.jsonl, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        write(Path(args.out), latest(Path(args.jsonl)), train, test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
