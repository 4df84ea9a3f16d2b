"""The table of docs/benchmarks.md "Lifting the tagger (issue 14)", from the rows
the runs wrote (nothing typed in): for each idea, eval entity F1 per seed, the
mean ± half the range, the mean dev F1 (the figure a choice may use), and the
mean paired difference to the baseline at the same seed.

    python benchmarks/klue_lift.py

The baseline is the defaults' best-epoch weights of the ``average_top_k=5`` runs
(``DIR:best`` rows of klue_ensemble.py: training is unchanged by averaging, so
they are exactly the default runs). Rows dated before 2026-11-30 (an earlier
engine, same settings) are marked with their date.
"""
from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def rows(name: str) -> list[dict]:
    path = RESULTS / name
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()] if path.exists() else []


def runs(name: str, tokenizer: str, settings: list[str], selftrain: bool = False) -> dict[int, dict]:
    """The latest run per seed with exactly these settings."""
    out = {}
    for r in rows(name):
        if r.get("tokenizer") == tokenizer and r.get("settings") == settings and ("selftrain" in r) == selftrain:
            dev = r["average"]["dev_score"] if r.get("average", {}).get("kept") else r["dev_f1"]
            out[r["seed"]] = {"eval": r["entity_f1"], "dev": dev, "date": r["date"]}
    return out


def ensembles() -> tuple[dict, dict]:
    """klue_ensemble.py rows: the best-epoch singles (the baseline) and the ensembles."""
    base, ens = {}, {}
    for r in rows("klue_ensemble.jsonl"):
        if r.get("what") == "single" and r["models"][0].endswith("average_top_k5:best"):
            seed = int(r["models"][0].split("-s")[1].split("-")[0])
            base[seed] = {"eval": r["entity_f1"], "date": r["date"]}
        elif r.get("what", "").startswith("ensemble"):
            ens[" + ".join(r["models"])] = {"eval": r["entity_f1"], "cpu": r["predict_cpu_seconds"]}
    return base, ens


def best_dev() -> dict[int, float]:
    """The best epoch's dev F1 of each averaging run (what the default run picks its epoch by)."""
    return {r["seed"]: r["dev_f1"] for r in rows("klue_ensemble.jsonl")
            if r.get("tokenizer") == "char" and r.get("settings") == ["average_top_k=5"]}


IDEAS = [  # (label, file, tokenizer, settings, selftrain)
    ("checkpoint averaging, k = 5", "klue_ensemble.jsonl", "char", ["average_top_k=5"], False),
    ("multi-task silver POS, W = 0.1", "klue_mtl.jsonl", "char", ["aux_pos_weight=0.1"], False),
    ("multi-task silver POS, W = 0.5", "klue_mtl.jsonl", "char", ["aux_pos_weight=0.5"], False),
    ("fusion: char+kiwi with bigrams", "klue_mtl.jsonl", "char+kiwi", [], False),
    ("self-training on KoNLPy text", "klue_selftrain.jsonl", "char", [], True),
    ("rate annealing, patience 3", "klue_anneal.jsonl", "char", ["anneal_patience=3"], False),
    ("LM init (char LSTM on train + KoNLPy text)", "klue.jsonl", "char",
     ["init_lm=data/workspace/transfer/lm_char_konlpy"], False),
]


def line(label: str, by_seed: dict, base: dict) -> str:
    seeds = sorted(by_seed)
    f1 = [by_seed[s]["eval"] for s in seeds]
    spread = f" ± {(max(f1) - min(f1)) / 2:.3f}" if len(f1) > 1 else ""
    devs = [by_seed[s]["dev"] for s in seeds if by_seed[s].get("dev") is not None]
    paired = [by_seed[s]["eval"] - base[s]["eval"] for s in seeds if s in base]
    dates = sorted({by_seed[s]["date"] for s in seeds} - {"2026-11-30"})
    cells = [label + (f" ({', '.join(dates)})" if dates else ""),
             " / ".join(f"{x:.4f}" for x in f1) + f" ({', '.join(map(str, seeds))})",
             f"{sum(f1) / len(f1):.4f}{spread}",
             f"{sum(devs) / len(devs):.4f}" if devs else "–",
             f"{sum(paired) / len(paired):+.4f} ({len(paired)})" if paired else "–"]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    base, ens = ensembles()
    dev = best_dev()
    for s in base:
        base[s]["dev"] = dev.get(s)
    print("| idea | eval entity F1 per seed (seeds) | mean ± half range | mean dev F1 | paired Δ eval vs baseline |")
    print("|---|---|---:|---:|---:|")
    if base:
        print(line("**baseline: the defaults** (best epoch)", base, base))
    for label, name, tok, settings, st in IDEAS:
        got = runs(name, tok, settings, st)
        if name == "klue_mtl.jsonl" and tok == "char+kiwi":
            got = {**runs("klue.jsonl", tok, settings), **got}
        if got:
            print(line(label, got, base))
    print("\n| ensemble (members) | eval entity F1 | predict eval.tsv, CPU s |\n|---|---:|---:|")
    for models, r in ens.items():
        print(f"| {models} | {r['eval']:.4f} | {r['cpu']:.2f} |")


if __name__ == "__main__":
    main()
