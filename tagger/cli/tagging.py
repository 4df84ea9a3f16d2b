"""The tagger's commands: ``validate``, ``train``, ``evaluate``, ``predict``
(their parsers in ``add_parsers``, the shared pieces in ``cli._util``)."""
from __future__ import annotations

import sys
from pathlib import Path

from tagger import api
from tagger.cli._util import (FORMAT_CHOICES, TOKENIZER_CHOICES, ProgressPrinter, add_crf_args,
                              add_encoder_args, add_eval_parser, add_out_args, add_scheme_arg,
                              add_schedule_args, err, load_corpus, prepare_out, print_json,
                              stdin_lines, tokenize_progress)
from tagger.training.hooks import Callback
from tagger.models.layout import CHECKPOINT
from tagger.core import Sentence, TaggerError
from tagger.core.units import snap


def add_parsers(sub) -> None:
    v = sub.add_parser("validate", help="check a corpus and print its statistics and problems")
    v.add_argument("path")
    v.add_argument("--format", choices=FORMAT_CHOICES)
    v.add_argument("--tokenizer", action="append", choices=TOKENIZER_CHOICES,
                   help="also report entity boundary coverage for this tokenizer (repeatable)")
    v.add_argument("--json", action="store_true")
    _add_train_parser(sub)
    add_eval_parser(sub, "evaluate", "score a model on a labelled corpus", scheme=True)

    r = sub.add_parser("predict", help="tag sentences (arguments, or stdin one per line)")
    r.add_argument("--model", required=True)
    r.add_argument("--json", action="store_true")
    r.add_argument("--format", choices=("klue", "conll", "sentence-tags"))
    r.add_argument("text", nargs="*")


def _add_train_parser(sub) -> None:
    t = sub.add_parser("train", help="train a BiLSTM/GRU(-CRF) tagger")
    t.add_argument("--train", required=True)
    t.add_argument("--dev")
    t.add_argument("--format", choices=FORMAT_CHOICES)
    t.add_argument("--tokenizer", choices=TOKENIZER_CHOICES)
    add_scheme_arg(t)
    add_encoder_args(t)
    add_crf_args(t)
    add_schedule_args(t)
    t.add_argument("--set", dest="settings", action="append", metavar="NAME=VALUE", default=[],
                   help="any other model/training setting, e.g. --set dropout=0.5 --set bigram_dim=32")
    t.add_argument("--resume", metavar="DIR")
    t.add_argument("--init-lm", dest="init_lm", metavar="DIR",
                   help="start from an RNN LM of the same token unit (its embeddings and first layer)")
    add_out_args(t)


# ---- validate -----------------------------------------------------------------
def cmd_validate(args) -> int:
    from tagger.tokenizers import entity_boundary_coverage
    from tagger.corpus.validate import validate
    corpus = api.load_corpus(args.path, format=args.format)
    report = validate(corpus)
    report["coverage"] = {}
    for name in args.tokenizer or []:
        res = api.tokenize([s.text for s in corpus.sentences], name, cache=True,
                           progress=tokenize_progress(name))
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


# ---- train --------------------------------------------------------------------
class CheckpointSaver(Callback):
    """Writes ``checkpoint.pt`` after every epoch (atomically), for ``--resume``."""
    def __init__(self, out: Path):
        self.out = out

    def on_checkpoint(self, state):
        from tagger.models.saving import atomic_torch_save
        atomic_torch_save(state, self.out / CHECKPOINT)


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
    """Under torchrun every rank runs this; only rank 0 prints, checkpoints and saves."""
    from tagger.training import distributed
    with distributed.quiet():
        return _train(args, distributed.is_main())


def _train(args, main: bool) -> int:
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
    train_c = load_corpus(args.train, args.format, scheme=args.scheme)
    dev_c = load_corpus(args.dev, args.format, scheme=args.scheme) if args.dev else None
    resuming_here = bool(args.resume) and Path(args.resume).resolve() == out.resolve()
    if main:
        prepare_out(out, args.overwrite, resuming_here)
    keys = ("rnn_type", "num_layers", "hidden_size", "bidirectional", "use_crf",
            "epochs", "batch_size", "lr", "device", "seed", "init_lm")
    overrides = {**_parse_settings(args.settings),
                 **{k: getattr(args, k) for k in keys if getattr(args, k) is not None}}
    epochs = overrides.get("epochs") or (tc.epochs if tc else TrainConfig().epochs)
    model = api.train(train_c, dev_c, tokenizer=tokenizer, resume=resume, model_config=mc,
                      train_config=tc, data_config=dc,
                      callbacks=[ProgressPrinter(epochs), CheckpointSaver(out)] if main else [], **overrides)
    if not main:
        return 0
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
    corpus = load_corpus(args.data, args.format, scheme=args.scheme)
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


def _print_plain(scores: dict) -> int:
    print(f"{'tag':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for tag, s in sorted(scores["per_tag"].items()):
        print(f"{tag:<10}{s['precision']:>10.4f}{s['recall']:>10.4f}{s['f1']:>10.4f}{s['support']:>9}")
    print(f"token accuracy {scores['accuracy']:.4f} over {scores['tokens']} units   macro F1 {scores['macro_f1']:.4f}")
    return 0


def cmd_predict(args) -> int:
    model = api.load_model(args.model)
    texts = args.text or stdin_lines()
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
    from tagger.core import Span
    sentences = []
    for i, r in enumerate(results):
        spans = [Span(e["start"], e["end"], e["label"]) for e in r["entities"]]
        if fmt != "klue":  # word formats: snap entities to whole words
            spans = snap(r["text"], spans, "word")
        sentences.append(Sentence(text=r["text"], spans=spans, id=f"pred-{i:05d}"))
    return dumps_corpus(new_corpus(sentences, fmt, scheme="plain" if plain else "bio"))


HANDLERS = {"validate": cmd_validate, "train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict}
