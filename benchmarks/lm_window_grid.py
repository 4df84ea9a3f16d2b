"""A small grid over the window LM's settings, to choose its defaults: each
setting trained with ``train_lm`` (the function ``lm-train`` calls) on the
first ``--lines`` sentences of the shared KLUE-NER train.tsv, early-stopped on
every 10th of those lines (the default holdout); the score is that held-out
perplexity only: eval.tsv plays no part in the choice. Rows go to a JSONL file
and a Markdown table.

    TAGGER_WORKSPACE=/tmp/lmws OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/lm_window_grid.py --lines 2000

Settings: ``key=value`` lists separated by ``;`` (keys of ``WindowConfig`` and
``LMTrainConfig``), each applied over ``WindowConfig()`` and ``LMTrainConfig()``
(Adam 0.005: not the window's training default, 0.001, which this grid chose).
``--table`` writes the Markdown table of the rows so far.
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
    ap.add_argument("--table", action="store_true", help="only write the Markdown table of the JSONL rows")
    args = ap.parse_args()
    if args.table:
        return write_table(Path(args.jsonl))
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


def write_table(jsonl: Path) -> int:
    rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    lines = ["# Window LM settings on held-out train lines (KLUE-NER train.tsv)", "",
             f"Command: `TAGGER_WORKSPACE=/tmp/lmws OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python "
             f"benchmarks/lm_window_grid.py --lines {rows[0]['lines']} --grid \"SETTINGS\"` (rows in "
             f"`{jsonl.name}`, in the order run). The first {rows[0]['lines']} train.tsv sentences, Kkma "
             "morphemes, min_freq 2; every 10th of them held out: the perplexity below is on those held-out "
             "lines (the best epoch's, the one kept), not on eval.tsv. Each setting is applied over "
             "`WindowConfig()` and `LMTrainConfig()` (n=4, emb 64, hidden 256, dropout 0.2, Adam 0.005, batch "
             "512, patience 2, cap 40): `(defaults)` is the window LM's default before 2026-11-30, when "
             "`train_defaults('window')` became Adam 0.001. One torch thread on 2 cores shared with other jobs "
             "(load average per row).", "",
             "| setting | held-out perplexity | epochs (best) | wall s | CPU s | load before/after | "
             "held-out perplexity per epoch |", "|---|---:|---:|---:|---:|---|---|"]
    for r in rows:
        lines.append(f"| {r['setting']} | {r['dev_perplexity']:.2f} | {r['epochs_run']} ({r['best_epoch']}) | "
                     f"{r['wall_s']:.0f} | {r['cpu_s']:.0f} | {r['load_before']:.1f}/{r['load_after']:.1f} | "
                     f"{', '.join(f'{x:.1f}' for x in r['dev_curve'])} |")
    out = jsonl.with_suffix(".md")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
