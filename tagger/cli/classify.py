"""The classification commands: ``classify-train``, ``classify-eval``,
``classify-predict`` (their parsers in ``add_parsers``), with the same
streams and exit codes as ``train``, ``evaluate`` and ``predict``."""
from __future__ import annotations

import sys
from pathlib import Path

from tagger.cli._util import (FORMAT_CHOICES, TOKENIZER_CHOICES, ProgressPrinter, add_encoder_args,
                              add_eval_parser, add_out_args, add_schedule_args, err, load_corpus,
                              prepare_out, print_json)
from tagger.models.layout import MODEL_JSON, WEIGHTS
from tagger.core import TaggerError

_MODEL_KEYS = {"rnn_type": "rnn_type", "num_layers": "num_layers", "hidden_size": "hidden_size",
               "bidirectional": "bidirectional", "dropout": "dropout", "pooling": "pooling"}
_TRAIN_KEYS = ("epochs", "batch_size", "lr", "device", "seed")


def add_parsers(sub) -> None:
    t = sub.add_parser("classify-train", help="train a sentence classifier on TEXT<TAB>LABEL lines")
    t.add_argument("--train", required=True)
    t.add_argument("--dev")
    t.add_argument("--format", choices=FORMAT_CHOICES, help="default text-label")
    t.add_argument("--tokenizer", choices=TOKENIZER_CHOICES, help="default char")
    add_encoder_args(t)
    t.add_argument("--pooling", choices=("final", "max"), help="max-pooled outputs (default) or final hidden states")
    t.add_argument("--dropout", type=float)
    add_schedule_args(t)
    add_out_args(t)
    add_eval_parser(sub, "classify-eval", "accuracy, macro F1, per-class report and confusion matrix")

    r = sub.add_parser("classify-predict", help="label sentences (arguments, or stdin one per line)")
    r.add_argument("--model", required=True)
    r.add_argument("--json", action="store_true")
    r.add_argument("text", nargs="*")


def _labelled(path, fmt):
    corpus = load_corpus(path, fmt or "text-label")
    if corpus.format != "text-label":
        raise TaggerError(f"{path}: classification needs a text-label corpus (TEXT<TAB>LABEL), not {corpus.format}")
    if not corpus.sentences:
        raise TaggerError(f"{path}: no labelled sentences")
    return corpus.sentences


def _check(args) -> None:
    for name in ("epochs", "batch_size", "num_layers", "hidden_size"):
        v = getattr(args, name)
        if v is not None and v < 1:
            raise TaggerError(f"--{name.replace('_', '-')} {v}: must be at least 1")
    if args.lr is not None and args.lr <= 0:
        raise TaggerError(f"--lr {args.lr}: must be positive")
    if args.dropout is not None and not 0 <= args.dropout < 1:
        raise TaggerError(f"--dropout {args.dropout}: must be in [0, 1)")


def cmd_classify_train(args) -> int:
    from tagger.models.classifier import ClassifierConfig
    from tagger.training.classifier import train_classifier
    from tagger.training.tagger import TrainConfig, with_overrides
    _check(args)
    train = _labelled(args.train, args.format)
    dev = _labelled(args.dev, args.format) if args.dev else None
    out = Path(args.out)
    prepare_out(out, args.overwrite, files=(MODEL_JSON, WEIGHTS))
    cfg = with_overrides(ClassifierConfig(), **{f: getattr(args, a) for a, f in _MODEL_KEYS.items()})
    tc = with_overrides(TrainConfig(), **{k: getattr(args, k) for k in _TRAIN_KEYS})
    model = train_classifier(train, dev, tokenizer=args.tokenizer or "char", config=cfg, train_config=tc,
                             callbacks=[ProgressPrinter(tc.epochs, _scores, eta_left=False)])
    model.meta["train_data"] = str(args.train)
    model.save(out)
    best = model.meta.get("dev_scores") or {}
    err(f"best dev accuracy {best.get('accuracy', 0):.4f} (macro F1 {best.get('macro_f1', 0):.4f}) "
        f"at epoch {model.meta.get('best_epoch')}")
    print(out)
    return 0


def _scores(r: dict) -> str:
    return f"dev accuracy {r['dev_accuracy']:.4f}  macro F1 {r['dev_macro_f1']:.4f}"


def cmd_classify_eval(args) -> int:
    from tagger.models.classifier import ClassifierModel
    model = ClassifierModel.load(args.model)
    sentences = _labelled(args.data, args.format)
    unknown = sorted({s.label for s in sentences} - set(model.labels))
    if unknown:
        err(f"warning: labels the model never saw (always wrong): {', '.join(unknown)}")
    r = model.evaluate(sentences)
    if args.json:
        print_json(r)
        return 0
    print(f"{args.data}: {r['sentences']} sentences")
    print(f"{'label':<12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for lab, s in r["per_class"].items():
        print(f"{lab:<12}{s['precision']:>10.4f}{s['recall']:>10.4f}{s['f1']:>10.4f}{s['support']:>9}")
    print(f"accuracy {r['accuracy']:.4f}   macro F1 {r['macro_f1']:.4f}")
    names = r["confusion"]["labels"]
    print("confusion (rows gold, columns predicted):")
    print(" " * 12 + "".join(f"{n[:8]:>9}" for n in names))
    for n, row in zip(names, r["confusion"]["matrix"]):
        print(f"{n[:12]:<12}" + "".join(f"{v:>9}" for v in row))
    return 0


def cmd_classify_predict(args) -> int:
    from tagger.models.classifier import ClassifierModel
    model = ClassifierModel.load(args.model)
    texts = args.text or [line.rstrip("\r\n") for line in sys.stdin]
    texts = [t for t in texts if t.strip()]
    for r in model.predict(texts) if texts else []:
        if args.json:
            print_json(r)
        else:
            print(f"{r['text']}\t{r['label']}\t{r['probs'][r['label']]:.4f}")
    return 0


HANDLERS = {"classify-train": cmd_classify_train, "classify-eval": cmd_classify_eval,
            "classify-predict": cmd_classify_predict}
