"""The language-model commands: ``lm-train``, ``lm-eval``, ``lm-complete``
and ``silver-pos`` (their parsers in ``add_parsers``). Same contract as the
tagger's commands: results on stdout, progress and problems on stderr,
``--json`` leaves only JSON on stdout, bad input exits 2 with one line."""
from __future__ import annotations

import argparse
from pathlib import Path

from tagger.cli._util import (FORMAT_CHOICES, TOKENIZER_CHOICES, ProgressPrinter, add_out_args, err,
                              load_corpus, prepare_out, print_json, tokenize_progress)
from tagger.models.layout import MODEL_JSON, WEIGHTS
from tagger.core import TaggerError

LM_TOKENIZER = "kkma"
# CLI option (argparse dest) -> the config field it sets, per LM kind
_KIND_OPTIONS = {
    "ngram": {"order": "order", "smoothing": "smoothing", "k": "k"},
    "window": {"order": "order", "hidden": "hidden_size", "embedding_dim": "embedding_dim", "dropout": "dropout"},
    "rnn": {"cell": "cell", "layers": "num_layers", "hidden": "hidden_size", "embedding_dim": "embedding_dim",
            "dropout": "dropout", "tie": "tie"},
}
_TRAIN_OPTIONS = ("epochs", "batch_size", "bptt", "lr", "patience", "anneal_patience", "anneal_factor", "seed",
                  "device")


def add_parsers(sub) -> None:
    _add_train_parser(sub)
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


def _add_train_parser(sub) -> None:
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
    t.add_argument("--tie", action=argparse.BooleanOptionalAction, default=None,
                   help="tie the output layer to the input embeddings (the default; --no-tie unties them)")
    t.add_argument("--tokenizer", choices=TOKENIZER_CHOICES, help="default kkma")
    t.add_argument("--min-freq", type=int, help="rarer training tokens become <unk> (default 2)")
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--bptt", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--patience", type=int, help="epochs without a better held-out perplexity before stopping")
    t.add_argument("--anneal-patience", type=int,
                   help="multiply the learning rate by --anneal-factor after this many epochs without a better "
                        "held-out perplexity (0 = never)")
    t.add_argument("--anneal-factor", type=float)
    t.add_argument("--seed", type=int)
    t.add_argument("--device", choices=("auto", "cpu", "cuda"))
    add_out_args(t)


def _texts(path, fmt=None) -> list[str]:
    """The lines of a ``text`` file, or the sentence text of a labelled
    corpus; ``konlpy``: KoNLPy's bundled corpora, split into sentences."""
    from tagger.corpus.konlpy_text import NAME, konlpy_sentences
    if str(path) == NAME and not Path(path).exists():
        return konlpy_sentences()
    corpus = load_corpus(path, fmt)
    texts = [s.text for s in corpus.sentences if s.text.strip()]
    if not texts:
        raise TaggerError(f"{path}: no text (every line is blank)")
    return texts


def _configs(args):
    from dataclasses import replace
    from tagger.lm import CONFIGS, LMDataConfig, train_defaults
    opts = _KIND_OPTIONS[args.kind]
    every = {o for kind in _KIND_OPTIONS.values() for o in kind}
    stray = sorted(o for o in every - set(opts) if getattr(args, o) is not None)
    if stray:
        names = ", ".join("--tie/--no-tie" if o == "tie" else "--" + o.replace("_", "-") for o in stray)
        raise TaggerError(f"{names}: not an option of --kind {args.kind}")
    values = {field: getattr(args, o) for o, field in opts.items() if getattr(args, o) is not None}
    if args.kind == "rnn" and values.get("tie", CONFIGS["rnn"]().tie):  # tied by default
        hidden = values.get("hidden_size", CONFIGS["rnn"]().hidden_size)
        if values.setdefault("embedding_dim", hidden) != hidden:
            raise TaggerError("tied embeddings need --embedding-dim equal to --hidden "
                              "(leave --embedding-dim out, or pass --no-tie)")
    try:
        cfg = CONFIGS[args.kind](**values)
        tc = replace(train_defaults(args.kind),
                     **{k: getattr(args, k) for k in _TRAIN_OPTIONS if getattr(args, k) is not None})
        dc = LMDataConfig(**({"min_freq": args.min_freq} if args.min_freq is not None else {}))
    except TypeError as e:  # a field this kind lacks: a programming error, said in one line
        raise TaggerError(str(e))
    _check_numbers(args, tc, dc)
    return cfg, tc, dc


def _check_numbers(args, tc, dc) -> None:
    bad = [(n, v) for n, v in (("--epochs", tc.epochs), ("--batch-size", tc.batch_size), ("--bptt", tc.bptt),
                               ("--min-freq", dc.min_freq), ("--layers", args.layers), ("--hidden", args.hidden),
                               ("--embedding-dim", args.embedding_dim), ("--patience", tc.patience))
           if v is not None and v < 1]
    if args.dropout is not None and not 0 <= args.dropout < 1:
        bad.append(("--dropout", args.dropout))
    if tc.anneal_patience < 0:
        bad.append(("--anneal-patience", tc.anneal_patience))
    if not 0 < tc.anneal_factor <= 1:
        bad.append(("--anneal-factor", tc.anneal_factor))
    if args.lr is not None and args.lr <= 0:
        bad.append(("--lr", args.lr))
    if args.order is not None and args.kind == "window" and args.order < 2:
        bad.append(("--order", args.order))
    if bad:
        raise TaggerError("; ".join(f"{n} {v}: out of range" for n, v in bad))


def cmd_lm_train(args) -> int:
    """Under torchrun every rank runs this; only rank 0 prints and saves."""
    from tagger.training import distributed
    with distributed.quiet():
        return _lm_train(args, distributed.is_main())


def _lm_train(args, main: bool) -> int:
    from tagger.lm import save_lm, train_lm
    from tagger.lm.ngram import check_config
    cfg, tc, dc = _configs(args)
    if args.kind == "ngram":
        check_config(cfg)
    texts = [t for path in args.text for t in _texts(path, args.format)]  # --text is repeatable
    dev = _texts(args.dev, args.format) if args.dev else None
    out = Path(args.out)
    from tagger.lm.io import COUNTS
    if main:
        prepare_out(out, args.overwrite, files=(MODEL_JSON, WEIGHTS, COUNTS))
    lm = train_lm(texts, dev, kind=args.kind, tokenizer=args.tokenizer or LM_TOKENIZER, config=cfg,
                  train_config=tc, data_config=dc, callbacks=[ProgressPrinter(tc.epochs, _scores, eta_left=False)] if main else [])
    if not main:
        return 0
    lm.meta["train_data"] = " + ".join(map(str, args.text))
    save_lm(lm, out)
    d = lm.meta.get("dev")
    if d:
        err(f"held-out perplexity {d['perplexity']:.2f}, {d['bits_per_char']:.3f} bits/char, "
            f"OOV rate {d['oov_rate']:.2%}")
    print(out)
    return 0


def _scores(r: dict) -> str:
    return f"dev perplexity {r['dev_perplexity']:.2f}  {r['tokens_per_s']:,.0f} tok/s"


def cmd_lm_eval(args) -> int:
    from tagger.lm import load_lm
    lm = load_lm(args.model)
    texts = _texts(args.text, args.format)
    r = lm.evaluate(texts)
    if args.json:
        print_json(r)
        return 0
    print(f"{args.text}: {r['sentences']} lines, {r['tokens']} predicted tokens ({lm.kind}, {lm.tokenizer})")
    print(f"perplexity {r['perplexity']:.2f}   bits/char {r['bits_per_char']:.4f}   "
          f"OOV rate {r['oov_rate']:.2%} ({r['oov_tokens']} tokens as <unk>)")
    for order, share in (r.get("unseen_ngrams") or {}).items():
        print(f"  unseen {order}-grams {share:.2%}")
    return 0


def cmd_lm_complete(args) -> int:
    from tagger.lm import load_lm
    lm = load_lm(args.model)
    prefix = " ".join(args.prefix)
    r = lm.complete(prefix, top_k=args.top_k, samples=args.sample, temperature=args.temperature,
                    max_tokens=args.max_tokens, seed=args.seed)
    if args.json:
        print_json(r)
        return 0
    for s in r["suggestions"]:
        print(f"{s['prob']:.4f}\t{s['token']}")
    for s in r["samples"]:
        print(f"{prefix}{'' if lm.tokenizer.startswith('char') else ' '}{s}")
    return 0


def cmd_silver_pos(args) -> int:
    """Kkma's analysis of the text as a char-level POS corpus (see ``tagger.training.silver``)."""
    from tagger.corpus.load import new_corpus, write_corpus
    from tagger.training.silver import silver_pos
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise TaggerError(f"{out}: exists; pass --overwrite to replace it")
    sentences, stats = silver_pos(_texts(args.text, args.format), progress=tokenize_progress("kkma"))
    write_corpus(new_corpus(sentences, "klue"), out)
    err(f"{stats['sentences']} sentences labelled ({stats['fallbacks']} Kkma could not analyse left out, "
        f"{stats['cache_hits']} from the cache)")
    print(out)
    return 0


HANDLERS = {"lm-train": cmd_lm_train, "lm-eval": cmd_lm_eval, "lm-complete": cmd_lm_complete,
            "silver-pos": cmd_silver_pos}
