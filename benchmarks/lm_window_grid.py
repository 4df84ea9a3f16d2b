"""A small grid over the window LM's settings, to choose its defaults: each
setting trained with ``train_lm`` (the function ``lm-train`` calls) on the
first ``--lines`` sentences of the shared KLUE-NER train.tsv, early-stopped on
every 10th of those lines (the default holdout); the score is that held-out
perplexity only: eval.tsv plays no part in the choice. Rows go to a JSONL file
and a Markdown table.

    TAGGER_WORKSPACE=/tmp/lmws OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/lm_window_grid.py --lines 2000

Settings: ``key=value`` lists separated by ``;`` (keys of ``WindowConfig`` and
``LMTrainConfig``), each run against the current defaults.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from tagger.corpus.load import load_corpus  # noqa: E402
from tagger.lm import LMTrainConfig, train_lm  # noqa: E402
from tagger.lm.window import WindowConfig  # noqa: E402

SHARED = Path(os.environ.get("TAGGER_SHARED_DATA", ROOT.parent / "shared" / "data")) / "klue-ner"
GRID = ("; dropout=0.4; dropout=0.5; lr=0.002; lr=0.002,dropout=0.4; lr=0.001,dropout=0.4; "
        "hidden_size=512,dropout=0.5; order=3,dropout=0.4; order=5,dropout=0.4; embedding_dim=128,dropout=0.5; "
        "window_batch=2048,dropout=0.4")


def parse(setting: str) -> tuple[dict, dict]:
    model_keys = {f.name: f.type for f in fields(WindowConfig)}
    m, t = {}, {}
    for kv in filter(None, (s.strip() for s in setting.split(","))):
        k, v = kv.split("=")
        num = float(v) if "." in v or "e" in v else int(v)
        (m if k in model_keys else t)[k] = num
    return m, t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=2000, help="first N train.tsv sentences (0: all)")
    ap.add_argument("--grid", default=GRID)
    ap.add_argument("--jsonl", default=str(ROOT / "benchmarks" / "results" / "lm_defaults.window_grid.jsonl"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    texts = [s.text for s in load_corpus(SHARED / "train.tsv").sentences if s.text.strip()]
    texts = texts[:args.lines] if args.lines else texts
    for setting in args.grid.split(";"):
        m, t = parse(setting)
        cfg, tc = WindowConfig(**m), LMTrainConfig(**t)
        load0, t0, c0 = os.getloadavg()[0], time.perf_counter(), time.process_time()
        lm = train_lm(texts, kind="window", tokenizer="kkma", config=cfg, train_config=tc)
        hist = lm.meta["history"]
        row = {"setting": setting.strip() or "(defaults)", "lines": len(texts),
               "dev_perplexity": min(h["dev_perplexity"] for h in hist), "best_epoch": lm.meta["best_epoch"],
               "epochs_run": len(hist), "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
               "load_before": load0, "load_after": os.getloadavg()[0], "lm_config": asdict(cfg),
               "train_config": asdict(tc), "dev_curve": [round(h["dev_perplexity"], 2) for h in hist]}
        print(json.dumps(row), flush=True)
        with open(args.jsonl, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
