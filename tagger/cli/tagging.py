"""The CLI's sub-commands (parsing lives in ``cli.py``)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from tagger import api
from tagger.cli.main import err, eta, print_json
from tagger.training.tagger import Callback
from tagger.models.saving import CHECKPOINT, MODEL_JSON, WEIGHTS, atomic_torch_save, load_checkpoint
from tagger.core import Sentence, TaggerError


def _load(path, fmt=None, strict=True, scheme=None):
    corpus = api.load_corpus(path, format=fmt, scheme=scheme)
    for p in corpus.problems:
        err(str(p))
    if strict and corpus.has_errors():
        n = sum(p.level == "error" for p in corpus.problems)
        raise TaggerError(f"{path}: {n} error(s) in the corpus (listed above); fix them or pick --format")
    return corpus


# ---- validate -----------------------------------------------------------------
def cmd_validate(args) -> int:
    from tagger.tokenizers import entity_boundary_coverage
    from tagger.corpus.validate import validate
    corpus = api.load_corpus(args.path, format=args.format)
    report = validate(corpus)
    report["coverage"] = {}
    for name in args.tokenizer or []:
        res = api.tokenize([s.text for s in corpus.sentences], name, cache=True,
                           progress=_tokenize_progress(name))
        report["coverage"][name] = entity_boundary_coverage(corpus.sentences, res.tokens)
        report["coverage"][name]["fallbacks"] = len(res.fallbacks)
    errors = any(p["level"] == "error" for p in report["problems"])
    if args.json:
        print_json(report)
    else:
        for p in corpus.problems:
            err(str(p))
        _print_validate(args.path, report)
    return 2 if errors else 0


def _print_validate(path, r) -> None:
    ents = r.get("entities", {})
    print(f"{path}: format {r['format']}, encoding {r['encoding']}")
    print(f"sentences {r['sentences']}, tokens {r['tokens']}, entities {sum(ents.values())}")
    for typ, n in sorted(ents.items()):
        print(f"  {typ:<8} {n}")
    for name, c in r["coverage"].items():
        print(f"entity boundary coverage ({name}): {c['coverage']:.2%} ({c['covered']}/{c['entities']})")
    lv = [p["level"] for p in r["problems"]]
    print(f"problems: {lv.count('error')} error(s), {lv.count('warning')} warning(s)")


def _tokenize_progress(name):
    state = {"last": -1}

    def cb(done, total):
        pct = int(100 * done / max(total, 1))
        if pct // 10 != state["last"] // 10 or done == total:
            state["last"] = pct
            err(f"tokenizing with {name}: {done}/{total}")
    return cb


# ---- train --------------------------------------------------------------------
class ProgressPrinter(Callback):
    def __init__(self, epochs: int):
        self.epochs, self.t0, self.tok = epochs, time.perf_counter(), _tokenize_progress("tokenizer")
        self.tty = sys.stderr.isatty()

    def on_message(self, text):
        err(text)

    def on_tokenize(self, done, total):
        self.tok(done, total)

    def on_batch(self, epoch, step, steps):
        if self.tty and (step % 10 == 0 or step == steps):
            sys.stderr.write(f"\repoch {epoch}/{self.epochs} {step}/{steps} batches")
            sys.stderr.flush()

    def on_epoch(self, r):
        left = (time.perf_counter() - self.t0) / r["epoch"] * (self.epochs - r["epoch"])
        err(("\r" if self.tty else "") + f"epoch {r['epoch']}/{self.epochs}  loss {r['loss']:.4f}  "
            f"{_dev_score(r)}  {r['tokens_per_s']:,.0f} tok/s  {r['train_seconds']:.1f}s"
            f"{'  *best' if r['best'] else ''}  (at most {eta(left)} left)")


class CheckpointSaver(Callback):
    """Writes ``checkpoint.pt`` after every epoch (atomically), for ``--resume``."""
    def __init__(self, out: Path):
        self.out = out

    def on_checkpoint(self, state):
        atomic_torch_save(state, self.out / CHECKPOINT)


def prepare_out(out: Path, overwrite: bool, resuming_here: bool = False,
                files=(MODEL_JSON, WEIGHTS, CHECKPOINT)) -> None:
    """Refuse a non-empty ``--out`` unless ``--overwrite`` (or resuming into it);
    drop the old model files first, model.json first: never a stale model."""
    if out.exists() and not out.is_dir():
        raise TaggerError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (overwrite or resuming_here):
        raise TaggerError(f"{out}: not empty (use --overwrite to replace it)")
    out.mkdir(parents=True, exist_ok=True)
    if resuming_here:
        files = (MODEL_JSON,)  # keep the checkpoint to resume from
    for name in files:
        (out / name).unlink(missing_ok=True)


def _parse_settings(items) -> dict:
    """``NAME=VALUE`` pairs, values typed by the config field they set."""
    from dataclasses import fields
    from tagger.models.encoding import DataConfig
    from tagger.models.tagger import TaggerConfig
    from tagger.training.tagger import TrainConfig
    types = {f.name: f.type for c in (TaggerConfig, TrainConfig, DataConfig) for f in fields(c)}
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in types:
            raise TaggerError(f"--set {item}: expected NAME=VALUE with NAME one of {', '.join(sorted(types))}")
        kind = str(types[name])
        try:
            if "bool" in kind:
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                out[name] = value.lower() in ("true", "1")
            elif "int" in kind:
                out[name] = int(value)
            elif "float" in kind:
                out[name] = float(value)
            else:
                out[name] = value
        except ValueError:
            raise TaggerError(f"--set {item}: {value!r} is not a valid {kind}")
    return out


def cmd_train(args) -> int:
    from tagger.models.tagger import TaggerConfig
    from tagger.training.tagger import TrainConfig
    out = Path(args.out)
    resume = None
    tokenizer, mc, tc, dc = args.tokenizer, None, None, None
    if args.resume:
        from tagger.training.tagger import resume_from
        r = resume_from(args.resume)
        resume, mc, tc, dc, tokenizer = (r[k] for k in ("resume", "model_config", "train_config", "data_config",
                                                        "tokenizer"))
        err(f"resuming {args.resume} after epoch {resume['epoch']}")
    train_c = _load(args.train, args.format, scheme=args.scheme)
    dev_c = _load(args.dev, args.format, scheme=args.scheme) if args.dev else None
    resuming_here = bool(args.resume) and Path(args.resume).resolve() == out.resolve()
    prepare_out(out, args.overwrite, resuming_here)
    keys = ("rnn_type", "num_layers", "hidden_size", "bidirectional", "use_crf",
            "epochs", "batch_size", "lr", "device", "seed", "init_lm")
    overrides = {**_parse_settings(args.settings),
                 **{k: getattr(args, k) for k in keys if getattr(args, k) is not None}}
    epochs = overrides.get("epochs") or (tc.epochs if tc else TrainConfig().epochs)
    model = api.train(train_c, dev_c, tokenizer=tokenizer, resume=resume, model_config=mc,
                      train_config=tc, data_config=dc, callbacks=[ProgressPrinter(epochs), CheckpointSaver(out)],
                      **overrides)
    model.meta["train_data"] = str(args.train)
    model.save(out)
    best = model.meta.get("dev_scores") or {}
    what = "accuracy" if model.meta.get("scheme") == "plain" else "entity_f1"
    err(f"best dev {what.replace('_', ' ')} {best.get(what, 0):.4f} at epoch {model.meta.get('best_epoch')}")
    print(out)
    return 0


# ---- evaluate / predict ---------------------------------------------------------
def cmd_evaluate(args) -> int:
    model = api.load_model(args.model)
    corpus = _load(args.data, args.format, scheme=args.scheme)
    scores = api.evaluate(model, corpus)
    if args.json:
        print_json(scores)
        return 0
    print(f"{args.data}: {scores['sentences']} sentences, scored on {scores['granularity']}s")
    if scores.get("scheme") == "plain":
        return _print_plain(scores)
    print(f"{'type':<8}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for typ, s in sorted(scores["per_type"].items()):
        print(f"{typ:<8}{s['precision']:>10.4f}{s['recall']:>10.4f}{s['f1']:>10.4f}{s['support']:>9}")
    print(f"{'micro':<8}{scores['precision']:>10.4f}{scores['recall']:>10.4f}{scores['entity_f1']:>10.4f}")
    print(f"macro F1 {scores['macro_f1']:.4f}   char-level macro F1 {scores['char_macro_f1']:.4f}")
    return 0


def _dev_score(r: dict) -> str:
    if r.get("dev_metric") == "accuracy":
        return f"dev accuracy {r['dev_score']:.4f}"
    return f"dev F1 {r['dev_f1']:.4f}"


def _print_plain(scores: dict) -> int:
    print(f"{'tag':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for tag, s in sorted(scores["per_tag"].items()):
        print(f"{tag:<10}{s['precision']:>10.4f}{s['recall']:>10.4f}{s['f1']:>10.4f}{s['support']:>9}")
    print(f"token accuracy {scores['accuracy']:.4f} over {scores['tokens']} units   macro F1 {scores['macro_f1']:.4f}")
    return 0


def cmd_predict(args) -> int:
    model = api.load_model(args.model)
    texts = args.text or [line.rstrip("\r\n") for line in sys.stdin]
    results = model.predict(texts)
    plain = model.meta.get("scheme") == "plain"
    if args.format:
        sys.stdout.buffer.write(_as_corpus(results, args.format, plain))
        return 0
    for r in results:
        if args.json:
            print_json(r)
        else:
            print(_marked(r, plain))
    return 0


def _marked(r, plain: bool = False) -> str:
    """The text with its entities marked inline, ``<surface:TYPE>``; for
    per-unit labels (plain) ``surface/TAG``; spacing kept."""
    text, out, pos = r["text"], [], 0
    for e in r["entities"]:
        surface = text[e["start"]:e["end"]]
        out += [text[pos:e["start"]], f"{surface}/{e['label']}" if plain else f"<{surface}:{e['label']}>"]
        pos = e["end"]
    return "".join(out + [text[pos:]])


def _as_corpus(results, fmt, plain=False) -> bytes:
    from tagger.corpus.load import dumps_corpus, new_corpus
    from tagger.scoring import unit_tags, units
    from tagger.core.units import token_tags_to_spans
    from tagger.core import Span
    sentences = []
    for i, r in enumerate(results):
        spans = [Span(e["start"], e["end"], e["label"]) for e in r["entities"]]
        if fmt != "klue":  # word formats: snap entities to whole words
            us = units(r["text"], "word")
            spans = [s for s, _ in token_tags_to_spans(us, unit_tags(r["text"], spans, "word"))]
        sentences.append(Sentence(text=r["text"], spans=spans, id=f"pred-{i:05d}"))
    return dumps_corpus(new_corpus(sentences, fmt, scheme="plain" if plain else "bio"))
