"""``tokenize``: tokenize a corpus or text file (any format ``load_corpus``
reads; plain text: one sentence per line) into the workspace's tokenization
cache, optionally writing JSON Lines (``--out``): one line per sentence,
``{"n", "id", "text", "tokens": [{"text", "start", "end", "form", "pos"}, ...]}``
plus ``"fallback"`` where the analyser fell back.  ``--ray [ADDRESS]`` runs
the Kkma analyses on a Ray cluster (``auto``: the one ``ray start`` runs on
this machine; ``local``: start one here; else the head's ``HOST:PORT``).
Summary on stdout, progress and problems on stderr."""
from __future__ import annotations

import json
import time

from tagger.cli._util import FORMAT_CHOICES, TOKENIZER_CHOICES, err, load_corpus, tokenize_progress
from tagger.core import TaggerError


def add_parsers(sub) -> None:
    t = sub.add_parser("tokenize", help="tokenize a corpus into the tokenization cache (optionally on Ray)")
    t.add_argument("path", help="a corpus in any readable format, or plain text (one sentence per line)")
    t.add_argument("--format", choices=FORMAT_CHOICES)
    t.add_argument("--tokenizer", choices=TOKENIZER_CHOICES, default="kkma")
    t.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                   help="analyse with Kkma actors on a Ray cluster (default address: auto)")
    t.add_argument("--ray-actors", type=int, metavar="N",
                   help="Kkma actors on the cluster (default: one per CPU of the cluster)")
    t.add_argument("--timeout", type=float, help="seconds per Kkma piece before the fallback (default 10)")
    t.add_argument("--workers", type=int, default=2, help="local Kkma worker processes (without Ray; default 2)")
    t.add_argument("--out", help="write the tokens as JSON Lines to this file")
    t.add_argument("--no-cache", action="store_true", help="neither read nor fill the cache")


def _check(args) -> None:
    for name, value in (("--ray-actors", args.ray_actors), ("--workers", args.workers)):
        if value is not None and value < 1:
            raise TaggerError(f"{name} {value}: must be at least 1")
    if args.timeout is not None and not args.timeout > 0:
        raise TaggerError(f"--timeout {args.timeout:g}: must be above 0")
    if args.ray_actors and not args.ray:
        raise TaggerError("--ray-actors needs --ray")


def _jsonl(sentences, tokens, fallbacks: dict) -> str:
    lines = []
    for n, (s, toks) in enumerate(zip(sentences, tokens)):
        row = {"n": n, "id": s.id, "text": s.text,
               "tokens": [{"text": t.text, "start": t.start, "end": t.end, "form": t.form, "pos": t.pos}
                          for t in toks]}
        if n in fallbacks:
            row["fallback"] = fallbacks[n]
        line = json.dumps(row, ensure_ascii=False)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:     # a lone surrogate: \u-escape this line
            line = json.dumps(row)
        lines.append(line + "\n")
    return "".join(lines)


def cmd_tokenize(args) -> int:
    from tagger.core.files import atomic_write
    from tagger.tokenizers import get_tokenizer
    _check(args)
    corpus = load_corpus(args.path, args.format)
    texts = [s.text for s in corpus.sentences]
    tok = get_tokenizer(args.tokenizer)
    kkma = getattr(tok, "analyzer", tok)          # char+kkma analyses with kkma
    on_ray = args.ray and hasattr(kkma, "use_ray")
    if args.ray and not on_ray:
        err(f"warning: --ray applies to Kkma; {args.tokenizer} runs here")
    t0 = time.perf_counter()
    if on_ray:
        kkma.use_ray(args.ray, args.ray_actors)
    try:
        res = tok.tokenize_many(texts, cache=not args.no_cache, workers=args.workers,
                                progress=tokenize_progress(args.tokenizer), timeout=args.timeout)
    finally:
        if on_ray:
            kkma.use_ray(None)
    fallbacks = dict(res.fallbacks)
    for i, why in res.fallbacks[:5]:
        err(f"{args.path}: sentence {i + 1}: fallback: {why}")
    if args.out:
        try:
            atomic_write(args.out, _jsonl(corpus.sentences, res.tokens, fallbacks).encode("utf-8"), mode=0o644)
        except OSError as e:
            raise TaggerError(f"{args.out}: cannot write ({e.strerror or e})") from None
    where = f" on Ray ({args.ray})" if on_ray else ""
    print(f"{args.path}: {len(texts)} sentences with {args.tokenizer}{where}: {res.cache_hits} from the cache, "
          f"{res.analyzed} analysed, {len(fallbacks)} fallback(s), {time.perf_counter() - t0:.1f}s")
    return 0


HANDLERS = {"tokenize": cmd_tokenize}
