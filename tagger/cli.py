"""``python -m tagger``: a thin shell over the API. Results go to stdout;
progress, warnings and problems to stderr. Bad input exits 2 with a one-line
message, never a traceback."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from .types import TaggerError

TOKENIZER_CHOICES = ("kkma", "char", "eojeol", "char+kkma")
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
    t.add_argument("--cell", dest="rnn_type", choices=("lstm", "gru", "rnn"))
    t.add_argument("--layers", dest="num_layers", type=int)
    t.add_argument("--hidden", dest="hidden_size", type=int)
    t.add_argument("--no-bidirectional", dest="bidirectional", action="store_const", const=False)
    crf = t.add_mutually_exclusive_group()
    crf.add_argument("--crf", dest="use_crf", action="store_const", const=True)
    crf.add_argument("--no-crf", dest="use_crf", action="store_const", const=False)
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--device", choices=("auto", "cpu", "cuda"))
    t.add_argument("--seed", type=int)
    t.add_argument("--set", dest="settings", action="append", metavar="NAME=VALUE", default=[],
                   help="any other model/training setting, e.g. --set dropout=0.5 --set bigram_dim=32")
    t.add_argument("--resume", metavar="DIR")
    t.add_argument("--overwrite", action="store_true")
    t.add_argument("--out", required=True)

    e = sub.add_parser("evaluate", help="score a model on a labelled corpus")
    e.add_argument("--model", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--format", choices=FORMAT_CHOICES)
    e.add_argument("--json", action="store_true")

    r = sub.add_parser("predict", help="tag sentences (arguments, or stdin one per line)")
    r.add_argument("--model", required=True)
    r.add_argument("--json", action="store_true")
    r.add_argument("--format", choices=("klue", "conll", "sentence-tags"))
    r.add_argument("text", nargs="*")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from . import cli_commands as cmds
    handler = {"validate": cmds.cmd_validate, "train": cmds.cmd_train,
               "evaluate": cmds.cmd_evaluate, "predict": cmds.cmd_predict}[args.command]
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
        if os.environ.get("TAGGER_DEBUG"):
            raise
        err(f"internal error: {type(e).__name__}: {e} (set TAGGER_DEBUG=1 for the traceback)")
        return 1


def print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def eta(seconds: float) -> str:
    return time.strftime("%M:%S", time.gmtime(max(seconds, 0)))
