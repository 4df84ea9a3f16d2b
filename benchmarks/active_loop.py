"""The annotation loop, simulated: what reviewing the model's most uncertain
sentences first saves against random and file order, on KLUE-NER.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/active_loop.py \\
        --strategy uncertainty --seed 1 [--measure path] [--rounds 10] [--experiment main]
    .venv/bin/python benchmarks/active_loop.py --summary

One run: 100 sentences of ../shared/data/klue-ner/train.tsv start labelled
(a seeded random sample; the first 100 for ``file``), the other 3,900 are the
pool, their gold hidden. A round: the current model tags the next 200 pool
sentences the strategy picks (``uncertainty``: ``rank_by_uncertainty``, the
app's order; ``random``: a seeded shuffle; ``file``: top to bottom), a
simulated annotator corrects its suggestions to gold, counting the edits,
and the sentences join the labelled set; then ``train_round`` retrains,
warm-started from the previous round's model (round 0 trains fresh). Early
stopping uses a dev split held out of the labelled set (every 10th); eval.tsv
is only scored, after every round (entity F1, seqeval, as ``tagger
evaluate``).

Edits to turn a sentence's suggested entities into its gold ones: exact
matches cost 0; then overlapping (suggestion, gold) pairs are matched one to
one, largest overlap first, and each costs 1 (a relabel, a boundary fix, or
both at once: one span corrected); an unmatched suggestion costs 1 (delete),
an unmatched gold entity 1 (add). ``gold_entities`` is what labelling the
same sentences from scratch would take (one add each).

Every round appends one JSON line to ``--out`` (default
benchmarks/results/active_loop.jsonl), so a run cut short keeps its rounds.
``--summary`` writes active_loop.md (the tables) and active_loop.png.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("TAGGER_SHARED_DATA", ROOT.parent / "shared" / "data")) / "klue-ner"
RESULTS = ROOT / "benchmarks" / "results"
THRESHOLDS = (0.60, 0.65, 0.70, 0.75)


def edits(gold, predicted) -> int:
    """Entity edits from ``predicted`` spans to ``gold`` spans (see the module doc)."""
    g_left = [g for g in gold if g not in set(predicted)]
    p_left = [p for p in predicted if p not in set(gold)]
    pairs = sorted(((min(g.end, p.end) - max(g.start, p.start), i, j)
                    for i, g in enumerate(g_left) for j, p in enumerate(p_left)
                    if g.start < p.end and p.start < g.end), key=lambda x: (-x[0], x[1], x[2]))
    used_g, used_p = set(), set()
    for _, i, j in pairs:
        if i not in used_g and j not in used_p:
            used_g.add(i)
            used_p.add(j)
    fixes = len(used_g)
    return fixes + (len(p_left) - fixes) + (len(g_left) - fixes)


def pick(strategy, model, pool, pool_tokens, k, rng, measure):
    """Indices (into ``pool``) of the next ``k`` sentences to review."""
    if strategy == "file":
        return pool[:k]
    if strategy == "random":
        return rng.sample(pool, min(k, len(pool)))
    from tagger.training.active import rank_by_uncertainty
    ranked = rank_by_uncertainty(model, [pool_tokens[i] for i in pool], measure)
    return [pool[i] for i, _ in ranked[:k]]


def review(model, sentences, tokens) -> tuple[int, int]:
    """(edits, gold entities) for the model's suggestions on ``sentences``."""
    from tagger.core import Span
    results = model.predict([s.text for s in sentences], token_lists=tokens)
    total = 0
    for s, r in zip(sentences, results):
        total += edits(list(s.spans), [Span(e["start"], e["end"], e["label"]) for e in r["entities"]])
    return total, sum(len(s.spans) for s in sentences)


def _write(args, row) -> None:
    with open(args.out, "a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)


def _resume(args, rng):
    """(model, state) from ``--state`` when it holds a finished round, else (None, None).
    Rows it recorded under another experiment are written again under this one."""
    from tagger.models.tagger import TaggerModel
    path = args.state / "state.json" if args.state else None
    if path is None or not path.exists():
        return None, None
    st = json.loads(path.read_text(encoding="utf-8"))
    rng.setstate((st["rng"][0], tuple(st["rng"][1]), st["rng"][2]))
    for row in st["rows"]:
        if row["experiment"] != args.experiment:
            _write(args, {**row, "experiment": args.experiment, "copied_from": row["experiment"]})
    st["rows"] = [{**r, "experiment": args.experiment} for r in st["rows"]]
    return TaggerModel.load(args.state / "model"), st


def _save(args, model, st, rng) -> None:
    if args.state:
        model.save(args.state / "model")
        st["rng"] = list(rng.getstate())
        (args.state / "state.json").write_text(json.dumps(st), encoding="utf-8")


def _first_model(args, sentences, cfg, train_round):
    """Round 0 (fresh): from ``--r0-cache`` when an identical run trained it before."""
    from tagger.models.tagger import TaggerModel
    key = args.r0_cache / f"seed{args.seed}-{'file' if args.strategy == 'file' else 'shuffled'}-{args.start}" \
        if args.r0_cache else None
    if key is not None and (key / "model.json").exists():
        return TaggerModel.load(key), True
    model = train_round(sentences, None, config=cfg)
    if key is not None:
        model.save(key)
    return model, False


def run(args) -> None:
    import torch
    torch.set_num_threads(1)
    from tagger import api
    from tagger.corpus.load import load_corpus
    from tagger.tokenizers import get_tokenizer
    from tagger.training.active import LoopConfig, train_round
    train = load_corpus(DATA / "train.tsv").sentences
    ev = load_corpus(DATA / "eval.tsv")
    tokens = get_tokenizer("char").tokenize_many([s.text for s in train]).tokens
    rng = random.Random(args.seed)
    order = list(range(len(train)))
    if args.strategy != "file":
        rng.shuffle(order)
    cfg = LoopConfig(measure=args.measure, seed=args.seed, device="cpu",
                     **({"epochs": args.epochs} if args.epochs else {}))
    model, st = _resume(args, rng)
    if st is None:
        pool = order[args.start:] if args.strategy != "file" else sorted(order[args.start:])
        st = {"round": -1, "labelled": order[:args.start], "pool": pool, "cum": 0, "cum_gold": 0, "rows": []}
    for rnd in range(st["round"] + 1, args.rounds + 1):
        t0 = time.perf_counter()
        n_edits = n_gold = 0
        rank_s = 0.0
        if rnd:
            chosen = pick(args.strategy, model, st["pool"], tokens, args.batch, rng, args.measure)
            rank_s = time.perf_counter() - t0
            n_edits, n_gold = review(model, [train[i] for i in chosen], [tokens[i] for i in chosen])
            taken = set(chosen)
            st["pool"] = [i for i in st["pool"] if i not in taken]
            st["labelled"] += chosen
        st["cum"], st["cum_gold"] = st["cum"] + n_edits, st["cum_gold"] + n_gold
        t2 = time.perf_counter()
        labelled = [train[i] for i in st["labelled"]]
        cached = False
        if rnd == 0:
            model, cached = _first_model(args, labelled, cfg, train_round)
        else:
            model = train_round(labelled, model, config=cfg)
        train_s = time.perf_counter() - t2
        row = _row(args, rnd, st, n_edits, n_gold, model, api.evaluate(model, ev), train_s, rank_s, t0, cached)
        st["round"] = rnd
        st["rows"].append(row)
        _write(args, row)
        _save(args, model, st, rng)


def _row(args, rnd, st, n_edits, n_gold, model, scores, train_s, rank_s, t0, cached) -> dict:
    hist = model.meta.get("history", [])
    return {"experiment": args.experiment, "strategy": args.strategy, "seed": args.seed,
            "measure": args.measure if args.strategy == "uncertainty" else None, "round": rnd,
            "labelled": len(st["labelled"]), "reviewed": len(st["labelled"]) - args.start,
            "eval_f1": scores["entity_f1"], "edits": n_edits, "cum_edits": st["cum"],
            "gold_entities": n_gold, "cum_gold_entities": st["cum_gold"],
            "epochs_run": len(hist), "best_epoch": model.meta.get("best_epoch"),
            "dev_f1": max((h["dev_f1"] for h in hist), default=None), "round0_cached": cached,
            "train_s": round(train_s, 1), "rank_s": round(rank_s, 1),
            "wall_s": round(time.perf_counter() - t0, 1), "load1": round(os.getloadavg()[0], 2),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


# ---- the summary: tables and a plot ------------------------------------------------
def _runs(rows, experiment):
    """{strategy label: {seed: [rows by round]}} of one experiment (the last run of a (label, seed) wins)."""
    out: dict = {}
    for r in rows:
        if r["experiment"] != experiment:
            continue
        label = f"uncertainty ({r['measure']})" if r["strategy"] == "uncertainty" else r["strategy"]
        runs = out.setdefault(label, {})
        if r["round"] == 0:
            runs[r["seed"]] = []
        runs.setdefault(r["seed"], []).append(r)
    return out


def _stat(values) -> str:
    import statistics
    if not values:
        return ""
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def _reach(runs, threshold, key="reviewed") -> str:
    """``key`` (reviewed sentences, cumulative edits) until eval F1 >= threshold: the mean over the runs that got there."""
    got = [next((r[key] for r in rs if r["eval_f1"] >= threshold), None) for rs in runs.values()]
    hit = [g for g in got if g is not None]
    if not hit:
        return "not reached"
    mean = sum(hit) / len(hit)
    return f"{mean:,.0f}" + ("" if len(hit) == len(got) else f" ({len(hit)} of {len(got)} runs)")


def _table(runs_by_label) -> list[str]:
    rounds = max((len(rs) for runs in runs_by_label.values() for rs in runs.values()), default=0)
    head = ["strategy (runs)"] + [f"r{i}" for i in range(rounds)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, runs in runs_by_label.items():
        cells = [_stat([rs[i]["eval_f1"] for rs in runs.values() if len(rs) > i]) for i in range(rounds)]
        lines.append(f"| {label} ({len(runs)}) | " + " | ".join(cells) + " |")
    return lines


def _costs(runs_by_label) -> list[str]:
    head = (["strategy (runs)", "rounds", "reviewed"] + [f"reviewed to F1 {t:.2f}" for t in THRESHOLDS]
            + [f"edits to F1 {t:.2f}" for t in THRESHOLDS]
            + ["total edits", "gold entities (from scratch)", "edits / gold", "wall s per round"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    n = min(len(rs) for runs in runs_by_label.values() for rs in runs.values())   # rounds every run has
    for label, runs in runs_by_label.items():
        last = [rs[n - 1] for rs in runs.values()]
        ed, gold = [r["cum_edits"] for r in last], [r["cum_gold_entities"] for r in last]
        walls = [r["wall_s"] for rs in runs.values() for r in rs[1:n]]
        lines.append(f"| {label} ({len(runs)}) | {n - 1} | {last[0]['reviewed']:,} | "
                     + " | ".join(_reach(runs, t) for t in THRESHOLDS) + " | "
                     + " | ".join(_reach(runs, t, "cum_edits") for t in THRESHOLDS)
                     + f" | {sum(ed) / len(ed):,.0f} | {sum(gold) / len(gold):,.0f} | "
                     f"{sum(ed) / max(sum(gold), 1):.2f} | {sum(walls) / len(walls):.0f} |")
    return lines


def summarise(path: Path) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    md = ["# The annotation loop, simulated (benchmarks/active_loop.py)", "",
          "Eval.tsv entity F1 after each round (r0: the 100 starting sentences; each round +200 reviewed), "
          "mean ± sample standard deviation over seeds. Costs count up to the last round every run "
          "of the table finished (the thresholds: over all rounds; wall s: warm rounds only). Generated by `benchmarks/active_loop.py --summary` from "
          f"`{path.name}`.", ""]
    for experiment, title in (("measures", "Measure comparison (one seed)"), ("main", "Strategies")):
        runs = _runs(rows, experiment)
        if runs:
            md += [f"## {title}", "", *_table(runs), "", *_costs(runs), ""]
    out = path.with_suffix(".md")
    out.write_text("\n".join(md), encoding="utf-8")
    png = path.with_suffix(".png")
    how = plot(_runs(rows, "main") or _runs(rows, "measures"), png)
    print(f"wrote {out} and {png} ({how})")


def plot(runs_by_label, png: Path) -> str:
    """Eval F1 (mean over seeds) against reviewed sentences (left) and against the
    cumulative edits the annotator made (right), one line per strategy."""
    panels = ({}, {})
    for label, runs in runs_by_label.items():
        n = min(len(rs) for rs in runs.values())
        mean = lambda key, i: sum(rs[i][key] for rs in runs.values()) / len(runs)  # noqa: E731
        panels[0][label] = [(mean("reviewed", i), mean("eval_f1", i)) for i in range(n)]
        panels[1][label] = [(mean("cum_edits", i), mean("eval_f1", i)) for i in range(n)]
    xlabels = ("reviewed sentences", "cumulative entity edits")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _plot_pil(panels, xlabels, png)
        return "matplotlib is not installed in .venv: drawn with Pillow"
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for ax, series, xl in zip(axes, panels, xlabels):
        for label, pts in series.items():
            ax.plot(*zip(*pts), marker="o", label=label)
        ax.set_xlabel(xl)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("eval.tsv entity F1")
    axes[0].legend()
    fig.savefig(png, dpi=120, bbox_inches="tight")
    return "matplotlib"


def _plot_pil(panels, xlabels, png: Path) -> None:
    from PIL import Image, ImageDraw
    PW, H, L, T, B = 480, 460, 55, 20, 50
    img = Image.new("RGB", (2 * PW + 190, H), "white")
    d = ImageDraw.Draw(img)
    ys = [y for series in panels for pts in series.values() for _, y in pts] or [0, 1]
    y0, y1 = max(0.0, min(ys) - 0.05), min(1.0, max(ys) + 0.05)
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd"]
    for k, (series, xlabel) in enumerate(zip(panels, xlabels)):
        ox = k * PW
        xs = [x for pts in series.values() for x, _ in pts] or [0, 1]
        x0, x1 = min(xs), max(max(xs), min(xs) + 1)
        px = lambda x: ox + L + (x - x0) / (x1 - x0) * (PW - L - 20)      # noqa: E731
        py = lambda y: H - B - (y - y0) / (y1 - y0) * (H - T - B)          # noqa: E731
        d.rectangle([ox + L, T, ox + PW - 20, H - B], outline="black")
        for i in range(6):
            y, x = y0 + (y1 - y0) * i / 5, x0 + (x1 - x0) * i / 5
            d.line([ox + L - 4, py(y), ox + L, py(y)], fill="black")
            d.text((ox + 8, py(y) - 6), f"{y:.2f}", fill="black")
            d.text((px(x) - 14, H - B + 6), f"{x:,.0f}", fill="black")
        d.text((ox + L + 60, H - 22), f"{xlabel}  (y: eval.tsv entity F1)", fill="black")
        for j, (label, pts) in enumerate(series.items()):
            c = colours[j % len(colours)]
            d.line([(px(x), py(y)) for x, y in pts], fill=c, width=2)
            for x, y in pts:
                d.ellipse([px(x) - 3, py(y) - 3, px(x) + 3, py(y) + 3], fill=c)
    for j, label in enumerate(panels[0]):
        c, y = colours[j % len(colours)], T + 20 + 18 * j
        d.line([2 * PW + 5, y, 2 * PW + 25, y], fill=c, width=3)
        d.text((2 * PW + 30, y - 6), label, fill="black")
    img.save(png)

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--strategy", choices=("uncertainty", "random", "file"), default="uncertainty")
    p.add_argument("--measure", choices=("path", "margin", "entity"), default=None,
                   help="uncertainty measure (default: LoopConfig's)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--start", type=int, default=100)
    p.add_argument("--batch", type=int, default=200)
    p.add_argument("--epochs", type=int, default=None, help="a round's epoch cap (default: LoopConfig's)")
    p.add_argument("--experiment", default="main", help="a name the rows carry (main | measures)")
    p.add_argument("--out", type=Path, default=RESULTS / "active_loop.jsonl")
    p.add_argument("--state", type=Path, help="a folder to keep the run's state in after every round, "
                   "and to continue from (a longer --rounds, or under another --experiment)")
    p.add_argument("--r0-cache", type=Path, help="a folder of round-0 models shared by runs with the same "
                   "seed and start (the first round is identical for them)")
    p.add_argument("--summary", action="store_true", help="write active_loop.md and .png from --out")
    args = p.parse_args(argv)
    if args.summary:
        summarise(args.out)
        return 0
    if args.measure is None:
        from tagger.training.active import LoopConfig
        args.measure = LoopConfig().measure
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
