"""The KLUE-NER benchmark behind the README's tables: trains through the CLI
exactly as a user would, times it (tokenize + train, wall clock), evaluates on
the held-out eval split, and appends one JSON line per run.

    python benchmarks/klue_ner.py --runs "char:crf char:softmax kkma:crf" [--seeds 1 2] \
        [--set epochs=20] [--out benchmarks/results/klue.jsonl]
    python benchmarks/klue_ner.py --summary benchmarks/results/klue.jsonl

Each run trains on train.tsv only (the engine holds out its own 10% dev);
eval.tsv is used for the final score and nothing else.
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
DATA = Path(os.environ.get("TAGGER_SHARED_DATA", ROOT.parent / "shared" / "data")) / "klue-ner"


def run_one(tokenizer: str, head: str, seed: int, settings: list[str], workdir: Path,
            data: tuple = (), name: str = "") -> dict:
    """One training run through the CLI; ``data`` = (train, dev) files replaces
    ``--train train.tsv`` (the engine's own dev holdout), ``name`` prefixes the run's folder."""
    tag = "-".join(([name] if name else []) + [tokenizer.replace("+", "_"), head, f"s{seed}"]
                   + [s.replace("=", "") for s in settings])
    out = workdir / tag
    files = ["--train", str(data[0]), "--dev", str(data[1])] if data else ["--train", str(DATA / "train.tsv")]
    cmd = [sys.executable, "-m", "tagger", "train", *files,
           "--tokenizer", tokenizer, "--crf" if head == "crf" else "--no-crf", "--seed", str(seed),
           "--device", "cpu", "--overwrite", "--out", str(out)]
    for s in settings:
        cmd += ["--set", s]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{p.stderr[-2000:]}")
    ev = subprocess.run([sys.executable, "-m", "tagger", "evaluate", "--model", str(out),
                         "--data", str(DATA / "eval.tsv"), "--json"], cwd=ROOT, capture_output=True, text=True)
    scores = json.loads(ev.stdout)
    meta = json.loads((out / "model.json").read_text())
    return {"tokenizer": tokenizer, "head": head, "seed": seed, "settings": settings,
            "entity_f1": scores["entity_f1"], "char_macro_f1": scores["char_macro_f1"],
            "macro_f1": scores["macro_f1"], "wall_seconds": round(wall, 1),
            "tokenize_seconds": round(meta["tokenize"]["tokenize_seconds"], 1),
            "coverage": meta["tokenize"]["coverage"], "best_epoch": meta["best_epoch"],
            "epochs_run": len(meta["history"]), "dev_f1": meta["dev_scores"]["entity_f1"],
            "command": " ".join(cmd[1:]), "date": time.strftime("%Y-%m-%d"),
            **({"average": meta["history"][-1]["average"]} if "average" in meta["history"][-1] else {})}


def append_row(path: Path, row: dict) -> None:
    """One JSON line appended to the results file ``path``, and echoed."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(json.dumps(row, ensure_ascii=False), flush=True)


def epochs(r: dict) -> str:
    return f"{r['epochs_run']} ({r['best_epoch']})"


def summary(paths: list[Path], seeds: set | None = None) -> str:
    """One line per (tokenizer, head, settings) over the rows of ``paths`` (of ``seeds`` only
    when given): eval entity F1 mean ± half the range, its seeds, and the mean dev F1."""
    rows = [json.loads(x) for path in paths for x in path.read_text().splitlines() if x.strip()]
    rows = [r for r in rows if "tokenizer" in r and (not seeds or r["seed"] in seeds)]  # klue_ensemble.py rows share some files
    groups: dict = {}
    for r in rows:
        groups.setdefault((r["tokenizer"], r["head"], " ".join(r["settings"]), r.get("selftrain", {}).get("kept", 0)),
                          []).append(r)
    lines = ["| tokenizer | head | settings | seeds | eval entity F1 | dev F1 | char macro F1 | wall (tok+train) | epochs (best) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (tok, head, sets, kept), rs in groups.items():
        f1 = [r["entity_f1"] for r in rs]
        mean = sum(f1) / len(f1)
        spread = f" ± {(max(f1) - min(f1)) / 2:.3f}" if len(f1) > 1 else ""
        sets = " ".join(x for x in (sets, f"+{kept} silver" if kept else "") if x) or "-"
        lines.append(f"| {tok} | {head} | {sets} | {', '.join(str(r['seed']) for r in rs)} | {mean:.3f}{spread} | "
                     f"{sum(r['dev_f1'] for r in rs) / len(rs):.3f} | "
                     f"{sum(r['char_macro_f1'] for r in rs) / len(rs):.3f} | "
                     f"{sum(r['wall_seconds'] for r in rs) / len(rs) / 60:.1f} min | "
                     f"{', '.join(epochs(r) for r in rs)} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default="char:crf", help="space-separated TOKENIZER:HEAD pairs")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--set", dest="settings", action="append", default=[])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "klue.jsonl")
    ap.add_argument("--workdir", type=Path, default=ROOT / "data" / "workspace" / "bench")
    ap.add_argument("--summary", type=Path, nargs="+", help="results files to summarise (with --seeds: those seeds only)")
    args = ap.parse_args()
    if args.summary:
        print(summary(args.summary, set(args.seeds) if "--seeds" in sys.argv else None))
        return
    if not (DATA / "train.tsv").exists():
        raise SystemExit(f"KLUE split not found at {DATA}: it lives in ../shared/data beside the repo")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for pair in args.runs.split():
        tok, head = pair.split(":")
        for seed in args.seeds:
            append_row(args.out, run_one(tok, head, seed, args.settings, args.workdir))


if __name__ == "__main__":
    main()
