"""``python -m tagger``: a thin shell over the API. Results go to stdout;
progress, warnings and problems to stderr. Bad input exits 2 with a one-line
message, never a traceback."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from tagger.settings import debug
from tagger.core import TaggerError

TOKENIZER_CHOICES = ("kkma", "char", "eojeol", "char+kkma", "kiwi", "char+kiwi")
FORMAT_CHOICES = ("klue", "conll", "sentence-tags", "text-label", "text")


def err(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tagger", description="Korean sequence tagging engine")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a corpus and print its statistics and problems")
    v.add_argument("path")
    v.add_argument("--format", choices=FORMAT_CHOICES)
    v.add_argument("--tokenizer", action="append", choices=TOKENIZER_CHOICES,
                   help="also report entity boundary coverage for this tokenizer (repeatable)")
    v.add_argument("--json", action="store_true")

    t = sub.add_parser("train", help="train a BiLSTM/GRU(-CRF) tagger")
    t.add_argument("--train", required=True)
    t.add_argument("--dev")
    t.add_argument("--format", choices=FORMAT_CHOICES)
    t.add_argument("--tokenizer", choices=TOKENIZER_CHOICES)
    _add_scheme_arg(t)
    _add_encoder_args(t)
    crf = t.add_mutually_exclusive_group()
    crf.add_argument("--crf", dest="use_crf", action="store_const", const=True)
    crf.add_argument("--no-crf", dest="use_crf", action="store_const", const=False)
    _add_schedule_args(t)
    t.add_argument("--set", dest="settings", action="append", metavar="NAME=VALUE", default=[],
                   help="any other model/training setting, e.g. --set dropout=0.5 --set bigram_dim=32")
    t.add_argument("--resume", metavar="DIR")
    t.add_argument("--init-lm", dest="init_lm", metavar="DIR",
                   help="start from an RNN LM of the same token unit (its embeddings and first layer)")
    _add_out_args(t)
    _add_eval_parser(sub, "evaluate", "score a model on a labelled corpus")

    r = sub.add_parser("predict", help="tag sentences (arguments, or stdin one per line)")
    r.add_argument("--model", required=True)
    r.add_argument("--json", action="store_true")
    r.add_argument("--format", choices=("klue", "conll", "sentence-tags"))
    r.add_argument("text", nargs="*")
    _add_lm_parsers(sub)
    _add_classify_parsers(sub)
    from tagger.cli.bench import add_bench_parser
    add_bench_parser(sub, TOKENIZER_CHOICES, FORMAT_CHOICES)
    return p


def _add_scheme_arg(t) -> None:
    t.add_argument("--scheme", choices=("bio", "plain"),
                   help="bio: entity tags; plain: per-unit labels such as POS (default: detected from the tags)")


def _add_encoder_args(t) -> None:
    t.add_argument("--cell", dest="rnn_type", choices=("lstm", "gru", "rnn"))
    t.add_argument("--layers", dest="num_layers", type=int)
    t.add_argument("--hidden", dest="hidden_size", type=int)
    t.add_argument("--no-bidirectional", dest="bidirectional", action="store_const", const=False)


def _add_schedule_args(t) -> None:
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--device", choices=("auto", "cpu", "cuda"))
    t.add_argument("--seed", type=int)


def _add_out_args(t) -> None:
    t.add_argument("--overwrite", action="store_true")
    t.add_argument("--out", required=True)


def _add_eval_parser(sub, name: str, help_text: str) -> None:
    e = sub.add_parser(name, help=help_text)
    e.add_argument("--model", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--format", choices=FORMAT_CHOICES)
    if name == "evaluate":
        _add_scheme_arg(e)
    e.add_argument("--json", action="store_true")


def _add_classify_parsers(sub) -> None:
    """``classify-train``, ``classify-eval``, ``classify-predict`` (handlers in ``cli_classify.py``)."""
    t = sub.add_parser("classify-train", help="train a sentence classifier on TEXT<TAB>LABEL lines")
    t.add_argument("--train", required=True)
    t.add_argument("--dev")
    t.add_argument("--format", choices=FORMAT_CHOICES, help="default text-label")
    t.add_argument("--tokenizer", choices=TOKENIZER_CHOICES, help="default char")
    _add_encoder_args(t)
    t.add_argument("--pooling", choices=("final", "max"), help="final hidden states (default) or max-pooled outputs")
    t.add_argument("--dropout", type=float)
    _add_schedule_args(t)
    _add_out_args(t)
    _add_eval_parser(sub, "classify-eval", "accuracy, macro F1, per-class report and confusion matrix")

    r = sub.add_parser("classify-predict", help="label sentences (arguments, or stdin one per line)")
    r.add_argument("--model", required=True)
    r.add_argument("--json", action="store_true")
    r.add_argument("text", nargs="*")


def _add_lm_parsers(sub) -> None:
    """``lm-train``, ``lm-eval``, ``lm-complete`` (handlers in ``cli_lm.py``)."""
    t = sub.add_parser("lm-train", help="train a language model (n-gram, window or RNN)")
    t.add_argument("--text", required=True, action="append",
                   help="one sentence per line, any labelled corpus (labels ignored), or 'konlpy' for "
                        "KoNLPy's kolaw + kobill corpora; repeat to train on several in order")
    t.add_argument("--dev", help="held-out text for early stopping (default: every 10th training line)")
    t.add_argument("--format", choices=FORMAT_CHOICES)
    t.add_argument("--kind", required=True, choices=("ngram", "window", "rnn"))
    t.add_argument("--order", type=int, help="n-gram order 1-5, or the window LM's n (n-1 context tokens)")
    t.add_argument("--smoothing", choices=("kn", "addk"))
    t.add_argument("--k", type=float, help="add-k's pseudo-count")
    t.add_argument("--cell", choices=("lstm", "gru", "rnn"))
    t.add_argument("--layers", type=int)
    t.add_argument("--hidden", type=int)
    t.add_argument("--embedding-dim", type=int)
    t.add_argument("--dropout", type=float)
    t.add_argument("--tie", action="store_true", help="tie the output layer to the input embeddings")
    t.add_argument("--tokenizer", choices=TOKENIZER_CHOICES, help="default kkma")
    t.add_argument("--min-freq", type=int, help="rarer training tokens become <unk> (default 2)")
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--bptt", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--seed", type=int)
    t.add_argument("--device", choices=("auto", "cpu", "cuda"))
    _add_out_args(t)

    e = sub.add_parser("lm-eval", help="perplexity, bits per character and OOV rate on held-out text")
    e.add_argument("--model", required=True)
    e.add_argument("--text", required=True)
    e.add_argument("--format", choices=FORMAT_CHOICES)
    e.add_argument("--json", action="store_true")

    c = sub.add_parser("lm-complete", help="next-token suggestions and samples after a prefix")
    c.add_argument("--model", required=True)
    c.add_argument("--top-k", type=int, default=5)
    c.add_argument("--sample", type=int, default=0, help="number of sampled continuations")
    c.add_argument("--temperature", type=float, default=1.0)
    c.add_argument("--max-tokens", type=int, default=30)
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--json", action="store_true")
    c.add_argument("prefix", nargs="*", metavar="PREFIX")

    v = sub.add_parser("silver-pos", help="a char-level POS corpus (B-/I-POS per character) from Kkma's analysis")
    v.add_argument("--text", required=True, help="a text file, any labelled corpus (labels ignored), or 'konlpy'")
    v.add_argument("--format", choices=FORMAT_CHOICES)
    v.add_argument("--overwrite", action="store_true")
    v.add_argument("--out", required=True, help="the KLUE-format file to write")



def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from tagger.cli import tagging as cmds
    from tagger.cli.bench import HANDLERS as BENCH_HANDLERS
    from tagger.cli.classify import HANDLERS as CLASSIFY_HANDLERS
    from tagger.cli.lm import HANDLERS as LM_HANDLERS
    handler = {"validate": cmds.cmd_validate, "train": cmds.cmd_train,
               "evaluate": cmds.cmd_evaluate, "predict": cmds.cmd_predict,
               **LM_HANDLERS, **CLASSIFY_HANDLERS, **BENCH_HANDLERS}[args.command]
    try:
        return handler(args)
    except TaggerError as e:
        err(f"error: {e}")
        return 2
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # an engine bug: one line, the traceback only on request
        if debug():
            raise
        err(f"internal error: {type(e).__name__}: {e} (set TAGGER_DEBUG=1 for the traceback)")
        return 1


def print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def eta(seconds: float) -> str:
    return time.strftime("%M:%S", time.gmtime(max(seconds, 0)))
