"""The LM defaults as a user meets them: ``lm-train`` with no flags but
``--kind`` (and ``--order 3`` for the n-gram) on the sentence text of the
shared KLUE-NER train.tsv, then ``lm-eval`` on eval.tsv. Runs the CLI itself
(``tagger.cli.main``, in this process so its CPU time can be measured) and
writes a Markdown table.

    TAGGER_WORKSPACE=/tmp/lmws OMP_NUM_THREADS=1 .venv/bin/python benchmarks/lm_defaults.py

Two dev choices for the window and RNN LMs, whose early stopping needs one:
``holdout`` (no ``--dev``: every 10th train line is held out, the default and
the honest one) and ``eval`` (``--dev eval.tsv``, as the issue ran it: the
test set then also picks the epoch). The n-gram uses no dev text.
Keep ``TAGGER_WORKSPACE`` on a persistent folder: Kkma then tokenizes the
text once (its cache lives there), not on every run.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from tagger.cli import main as cli  # noqa: E402

SHARED = Path(os.environ.get("TAGGER_SHARED_DATA", ROOT.parent / "shared" / "data")) / "klue-ner"
RUNS = (("Kneser-Ney 3-gram", ["--kind", "ngram", "--order", "3"]), ("window LM", ["--kind", "window"]),
        ("RNN LM", ["--kind", "rnn"]))


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the Kkma workers)."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def run_one(name: str, flags: list[str], dev: str, work: Path) -> dict:
    train, held = SHARED / "train.tsv", SHARED / "eval.tsv"
    out = work / f"{flags[1]}-{dev}"
    argv = ["lm-train", "--text", str(train), *flags, *(["--dev", str(held)] if dev == "eval" else []),
            "--out", str(out)]
    load0, t0, c0 = os.getloadavg()[0], time.perf_counter(), cpu_seconds()
    if cli(argv) != 0:
        raise SystemExit(f"lm-train failed: {' '.join(argv)}")
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        if cli(["lm-eval", "--model", str(out), "--text", str(held), "--json"]) != 0:
            raise SystemExit(f"lm-eval failed on {out}")
    r = json.loads(buf.getvalue())
    meta = json.loads((out / "model.json").read_text(encoding="utf-8"))
    hist = meta.get("history") or []
    row = {"model": name, "dev": dev, "argv": argv, "perplexity": r["perplexity"], "bits_per_char": r["bits_per_char"],
           "oov_rate": r["oov_rate"], "tokens": r["tokens"], "vocab_size": r["vocab_size"], "wall_s": wall,
           "cpu_s": cpu, "best_epoch": meta.get("best_epoch"), "epochs_run": len(hist),
           "lm_config": meta["lm_config"], "train_config": meta["train_config"], "load_before": load0,
           "load_after": os.getloadavg()[0]}
    print(json.dumps(row), flush=True)
    return row


def merged(jsonl: Path, row: dict) -> list[dict]:
    """Append ``row`` to ``jsonl`` and return its rows, the latest per (model, dev):
    runs of this script in parallel (one per dev choice) then fill one table."""
    with jsonl.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    rows = {}
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows[(r["model"], r["dev"])] = r
    return list(rows.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dev", choices=("both", "holdout", "eval"), default="both")
    ap.add_argument("--kinds", default="ngram,window,rnn", help="comma-separated subset")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared 2-core machine)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "lm_defaults.md"))
    ap.add_argument("--jsonl", default=str(ROOT / "benchmarks" / "results" / "lm_defaults.jsonl"),
                    help="every run's row is appended here; the table shows the latest row per model and dev")
    ap.add_argument("--table", action="store_true", help="only rewrite the table from the JSONL rows")
    args = ap.parse_args()
    if args.table:
        rows = {}
        for line in Path(args.jsonl).read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            rows[(r["model"], r["dev"])] = r
        write(Path(args.out), list(rows.values()))
        return 0
    torch.set_num_threads(args.threads)
    command = ["TAGGER_WORKSPACE=/tmp/lmws", f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}",
               ".venv/bin/python", "benchmarks/lm_defaults.py", *sys.argv[1:]]
    kinds = set(args.kinds.split(","))
    devs = ("holdout", "eval") if args.dev == "both" else (args.dev,)
    order = {k: i for i, k in enumerate(args.kinds.split(","))}  # run in the order given
    runs = sorted((r for r in RUNS if r[1][1] in kinds), key=lambda r: order[r[1][1]])
    with tempfile.TemporaryDirectory() as tmp:
        for name, flags in runs:
            for dev in (("holdout",) if flags[1] == "ngram" else devs):
                row = {**run_one(name, flags, dev, Path(tmp)), "command": command, "threads": torch.get_num_threads(),
                       "date": date.today().isoformat()}
                write(Path(args.out), merged(Path(args.jsonl), row))  # after every run
    return 0


def _settings(r: dict) -> str:
    c, t = r["lm_config"], r["train_config"]
    if r["argv"][r["argv"].index("--kind") + 1] == "ngram":
        return f"order {c['order']}, {c['smoothing']}"
    shape = (f"n={c['order']}, emb {c['embedding_dim']}, hidden {c['hidden_size']}" if "order" in c else
             f"{c['cell']} {c['num_layers']}x{c['hidden_size']}{', tied' if c['tie'] else ''}")
    anneal = f", lr /{1 / t['anneal_factor']:g} after {t['anneal_patience']} bad" if t.get("anneal_patience") else ""
    return (f"{shape}, dropout {c['dropout']}, lr {t['lr']}{anneal}, cap {t['epochs']}, patience {t['patience']}")


def write(path: Path, rows: list[dict]) -> None:
    cmds = sorted({" ".join(r["command"]) for r in rows if "command" in r})
    rank = {name: i for i, (name, _) in enumerate(RUNS)}
    rows = sorted(rows, key=lambda r: (rank[r["model"]], r["dev"] != "holdout"))
    r0 = rows[0]
    lines = [f"# LM defaults on the KLUE-NER sentence text ({', '.join(sorted({r['date'] for r in rows}))})", "",
             "Command(s): " + "; ".join(f"`{c}`" for c in cmds), "",
             "Each row is `python -m tagger lm-train --text train.tsv --kind K [--order 3] [--dev eval.tsv]` with "
             "every other setting at its default (Kkma morphemes, min_freq 2), then `lm-eval --text eval.tsv`. "
             f"eval.tsv: {r0['tokens']} predicted tokens, vocabulary {r0['vocab_size']}, OOV rate "
             f"{r0['oov_rate']:.2%}. dev `holdout`: every 10th train line held out for early stopping (the "
             "default); `eval.tsv`: the test set also stops training (the issue's run).", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other jobs (load average per row), "
             f"torch {torch.__version__}, {'/'.join(sorted({str(r['threads']) for r in rows}))} torch thread(s), "
             "CPU device. CPU s is this "
             "process's CPU time (plus its finished child processes); wall s depends on the neighbours.", "",
             "| model | dev | perplexity | bits/char | wall s | CPU s | epochs (best) | load 1-min before/after "
             "| settings |",
             "|---|---|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        ep = f"{r['epochs_run']} ({r['best_epoch']})" if r["best_epoch"] else "–"
        dev = "–" if r["model"].startswith("Kneser") else ("eval.tsv" if r["dev"] == "eval" else "holdout")
        lines.append(f"| {r['model']} | {dev} | {r['perplexity']:.2f} | {r['bits_per_char']:.4f} | {r['wall_s']:.0f} "
                     f"| {r['cpu_s']:.0f} | {ep} | {r['load_before']:.1f}/{r['load_after']:.1f} | {_settings(r)} |")
    have = {(r["model"], r["dev"]) for r in rows}
    missing = [f"{name} ({'eval.tsv' if dev == 'eval' else dev})" for name, flags in RUNS
               for dev in (("holdout",) if flags[1] == "ngram" else ("holdout", "eval")) if (name, dev) not in have]
    if missing:
        lines += ["", f"No finished run (so no row) yet: {', '.join(missing)}. See docs/benchmarks.md, \"Defaults\"."]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
