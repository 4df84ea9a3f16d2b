"""What the CLI's command modules share: the output helpers (``err``,
``print_json``), the option choices and argument adders, the corpus loader
with its messages, the stderr progress printers and the ``--out`` guard.
Command modules import this module and the engine, never each other.

The contract of every command: results go to stdout; progress, warnings and
problems to stderr. Bad input exits 2 with a one-line message, never a
traceback."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from tagger import api
from tagger.training.hooks import Callback
from tagger.models.layout import CHECKPOINT, MODEL_JSON, WEIGHTS
from tagger.core import Problem, TaggerError

TOKENIZER_CHOICES = ("kkma", "char", "eojeol", "char+kkma", "kiwi", "char+kiwi")
FORMAT_CHOICES = ("klue", "conll", "sentence-tags", "text-label", "text", "doccano", "labelstudio")
STDIN = "<stdin>"  # the path of stdin in problem lines, ``<stdin>:LINE: warning: ...``


def err(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def eta(seconds: float) -> str:
    return time.strftime("%M:%S", time.gmtime(max(seconds, 0)))


# ---- argument adders ----------------------------------------------------------
def add_scheme_arg(t) -> None:
    t.add_argument("--scheme", choices=("bio", "plain"),
                   help="bio: entity tags; plain: per-unit labels such as POS (default: detected from the tags)")


def add_encoder_args(t) -> None:
    t.add_argument("--cell", dest="rnn_type", choices=("lstm", "gru", "rnn"))
    t.add_argument("--layers", dest="num_layers", type=int)
    t.add_argument("--hidden", dest="hidden_size", type=int)
    t.add_argument("--no-bidirectional", dest="bidirectional", action="store_const", const=False)


def add_crf_args(t) -> None:
    crf = t.add_mutually_exclusive_group()
    crf.add_argument("--crf", dest="use_crf", action="store_const", const=True)
    crf.add_argument("--no-crf", dest="use_crf", action="store_const", const=False)


def add_schedule_args(t) -> None:
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--device", choices=("auto", "cpu", "cuda"))
    t.add_argument("--seed", type=int)


def add_out_args(t) -> None:
    t.add_argument("--overwrite", action="store_true")
    t.add_argument("--out", required=True)


def add_eval_parser(sub, name: str, help_text: str, scheme: bool = False) -> None:
    """``evaluate`` (with ``--scheme``) and ``classify-eval``."""
    e = sub.add_parser(name, help=help_text)
    e.add_argument("--model", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--format", choices=FORMAT_CHOICES)
    if scheme:
        add_scheme_arg(e)
    e.add_argument("--json", action="store_true")


# ---- input ----------------------------------------------------------------------
def load_corpus(path, fmt=None, strict=True, scheme=None):
    """The corpus at PATH, its problems on stderr; with errors (and ``strict``)
    a ``TaggerError`` that sends the user to them."""
    corpus = api.load_corpus(path, format=fmt, scheme=scheme)
    for p in corpus.problems:
        err(str(p))
    if strict and corpus.has_errors():
        n = sum(p.level == "error" for p in corpus.problems)
        raise TaggerError(f"{path}: {n} error(s) in the corpus (listed above); fix them or pick --format")
    return corpus


def stdin_lines() -> list[str]:
    """stdin, one text per line, line ends dropped. Bytes the stdin encoding
    cannot decode become U+FFFD, with one ``<stdin>:LINE: warning: ...`` per
    such line on stderr (the way ``validate`` reports a corpus)."""
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # a text stream without bytes underneath (an embedding program's StringIO)
        return [line.rstrip("\r\n") for line in sys.stdin]
    encoding = getattr(sys.stdin, "encoding", None) or "utf-8"
    texts = []
    for n, line in enumerate(raw, 1):  # split at b"\n" only, as sys.stdin does on POSIX
        try:
            text = line.decode(encoding)
        except UnicodeDecodeError:
            text = line.decode(encoding, errors="replace")
            err(str(Problem(STDIN, n, "warning", f"undecodable bytes (not {encoding}) replaced with U+FFFD")))
        texts.append(text.rstrip("\r\n"))
    return texts


# ---- output -----------------------------------------------------------------------
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


# ---- progress on stderr -------------------------------------------------------------
def tokenize_progress(name):
    state = {"last": -1}

    def cb(done, total):
        pct = int(100 * done / max(total, 1))
        if pct // 10 != state["last"] // 10 or done == total:
            state["last"] = pct
            err(f"tokenizing with {name}: {done}/{total}")
    return cb


class ProgressPrinter(Callback):
    """Training progress on stderr: messages, tokenizing, batches (on a
    terminal) and one line per epoch: ``epoch e/n  loss …  <scores>  <s>s``,
    where ``scores(record)`` is the task's part (the tagger's dev F1 and
    tokens/s by default; the LM and classifier commands pass their own) and
    the tagger's line ends with the time left."""
    def __init__(self, epochs: int, scores=None, eta_left: bool = True):
        self.epochs, self.t0, self.tok = epochs, time.perf_counter(), tokenize_progress("tokenizer")
        self.tty = sys.stderr.isatty()
        self.scores = scores or (lambda r: f"{_dev_score(r)}  {r['tokens_per_s']:,.0f} tok/s")
        self.eta_left = eta_left

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
            f"{self.scores(r)}  {r['train_seconds']:.1f}s{'  *best' if r['best'] else ''}"
            + (f"  (at most {eta(left)} left)" if self.eta_left else ""))


def _dev_score(r: dict) -> str:
    if r.get("dev_metric") == "accuracy":
        return f"dev accuracy {r['dev_score']:.4f}"
    return f"dev F1 {r['dev_f1']:.4f}"
