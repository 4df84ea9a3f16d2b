"""``bench train`` and ``bench predict`` (their parsers in ``add_parsers``;
the measuring in ``tagger.bench.train`` / ``tagger.bench.predict``). Progress
on stderr, results on stdout; ``--json`` leaves one JSON object on stdout."""
from __future__ import annotations

from tagger.cli._util import FORMAT_CHOICES, TOKENIZER_CHOICES, add_crf_args, err, load_corpus, print_json


def add_parsers(sub) -> None:
    b = sub.add_parser("bench", help="speed benchmarks: training throughput vs a bare loop, prediction")
    bsub = b.add_subparsers(dest="bench_command", required=True)
    t = bsub.add_parser("train", help="one engine epoch vs a bare loop over the same padded batches")
    t.add_argument("--train", required=True)
    t.add_argument("--format", choices=FORMAT_CHOICES)
    t.add_argument("--tokenizer", choices=TOKENIZER_CHOICES, default="char")
    add_crf_args(t)
    t.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    t.add_argument("--max-sentences", type=int, help="use only the first N sentences")
    t.add_argument("--rounds", type=int, default=2, help="engine/bare alternations (best kept; default 2)")
    t.add_argument("--batch-size", type=int)
    t.add_argument("--hidden", dest="hidden_size", type=int)
    t.add_argument("--layers", dest="num_layers", type=int)
    t.add_argument("--crf-forward", choices=("auto", "loop", "scan"), default="auto",
                   help="CRF forward algorithm: auto = parallel scan on CUDA, time loop elsewhere")
    t.add_argument("--no-reference", action="store_true", help="skip the raw-LSTM and softmax references")
    t.add_argument("--json", action="store_true")

    p = bsub.add_parser("predict", help="predict throughput and Demo-path latency of a model")
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--format", choices=FORMAT_CHOICES)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--latency-sentences", type=int, default=200)
    p.add_argument("--workers", type=int, default=1, help="analyser worker processes (Kkma) for throughput")
    p.add_argument("--json", action="store_true")


def _positive(name: str, value) -> None:
    from tagger.core import TaggerError
    if value is not None and value < 1:
        raise TaggerError(f"{name} {value}: must be at least 1")


def cmd_bench(args) -> int:
    return {"train": _bench_train, "predict": _bench_predict}[args.bench_command](args)


def _bench_train(args) -> int:
    from tagger.bench.train import BenchConfig, bench_train
    from tagger.models.tagger import TaggerConfig
    from tagger.training.tagger import TrainConfig, with_overrides
    for name, value in (("--max-sentences", args.max_sentences), ("--rounds", args.rounds),
                        ("--batch-size", args.batch_size), ("--hidden", args.hidden_size),
                        ("--layers", args.num_layers)):
        _positive(name, value)
    corpus = load_corpus(args.train, args.format)
    mc = with_overrides(TaggerConfig(), hidden_size=args.hidden_size, num_layers=args.num_layers)
    tc = with_overrides(TrainConfig(), batch_size=args.batch_size, device=args.device)
    cfg = BenchConfig(tokenizer=args.tokenizer, device=args.device, max_sentences=args.max_sentences,
                      rounds=args.rounds, reference=not args.no_reference,
                      crf_forward=args.crf_forward)
    r = bench_train(corpus.sentences, use_crf=args.use_crf is not False, cfg=cfg, model_config=mc,
                    train_config=tc, say=err)
    if args.json:
        print_json(r)
        return 0
    print(f"{args.train}: {r['sentences']} sentences, {r['tokens']:,} tokens ({r['tokenizer']}), "
          f"head {r['head']}, device {r['device']}, {r['torch_threads']} torch thread(s)")
    if "crf_forward" in r:
        print(f"CRF forward algorithm: {r['crf_forward']}")
    print(f"engine {r['engine_tokens_per_s']:,.0f} tok/s   bare {r['bare_tokens_per_s']:,.0f} tok/s   "
          f"ratio {r['ratio']:.3f}")
    print(f"by CPU time: engine {r['engine_cpu_tokens_per_s']:,.0f} tok/s   bare "
          f"{r['bare_cpu_tokens_per_s']:,.0f} tok/s   ratio {r['cpu_ratio']:.3f}")
    if "raw_lstm_tokens_per_s" in r:
        print(f"raw fused LSTM reference {r['raw_lstm_tokens_per_s']:,.0f} tok/s")
    if "crf_cost_vs_softmax" in r:
        print(f"softmax head (bare) {r['softmax_bare_tokens_per_s']:,.0f} tok/s: "
              f"the CRF head costs {r['crf_cost_vs_softmax']:.2f}x softmax per epoch")
    return 0


def _bench_predict(args) -> int:
    from tagger import api
    from tagger.bench.predict import bench_predict
    _positive("--batch-size", args.batch_size)
    _positive("--latency-sentences", args.latency_sentences)
    _positive("--workers", args.workers)
    model = api.load_model(args.model)
    corpus = load_corpus(args.data, args.format)
    r = bench_predict(model, [s.text for s in corpus.sentences], args.batch_size,
                      args.latency_sentences, args.workers, say=err)
    if args.json:
        print_json(r)
        return 0
    print(f"{args.data}: {r['sentences']} sentences, {r['tokens']:,} tokens ({r['tokenizer']}), "
          f"device {r['device']}, {r['torch_threads']} torch thread(s)")
    print(f"tokenize {r['tokenize_seconds']:.2f}s; predict {r['predict_seconds']:.2f}s "
          f"({r['predict_cpu_seconds']:.2f}s CPU) = "
          f"{r['sentences_per_s']:,.0f} sentences/s, {r['tokens_per_s']:,.0f} tokens/s")
    lat = r["latency"]
    what = "including" if r["tokenizer_included"] else "excluding"
    print(f"Demo path, one sentence, warm model ({what} the tokenizer): "
          f"p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms (n={lat['n']}); by CPU time "
          f"p50 {r['latency_cpu']['p50_ms']:.1f} ms, p95 {r['latency_cpu']['p95_ms']:.1f} ms")
    if "tokenizer_latency" in r:
        t = r["tokenizer_latency"]
        print(f"  {r['tokenizer']} alone: p50 {t['p50_ms']:.1f} ms, p95 {t['p95_ms']:.1f} ms")
    return 0


HANDLERS = {"bench": cmd_bench}
