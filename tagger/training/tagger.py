"""Training: tokenize (cached) -> project gold spans -> encode once -> epochs
of length-bucketed batches, early stopping on dev entity F1 at the corpus's
own granularity, the best state kept. Reports through callbacks and returns
the history; prints nothing. A fresh module can be initialised by an
``init`` callable (``tagger.api`` passes the LM transfer): training never
imports the language models."""
from __future__ import annotations

import os
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Optional, Sequence

import torch

from tagger import scoring as ev
from tagger.core import Sentence, TaggerError
from tagger.core.units import spans_to_token_tags
from tagger.models.encoding import DataConfig, Encoded, Vocabs, build_vocabs, encode, length_batches, oov_rate
from tagger.models.saving import config_from_json, load_checkpoint, resolve_device
from tagger.models.tagger import Tagger, TaggerConfig, TaggerModel, decode_encoded
from tagger.models.vocab import Vocab
from tagger.training import distributed
from tagger.training.loop import Callback, EpochLoop, TrainConfig, holdout_split, say as _say

# init(module, vocabs, tokenizer_name) -> a JSON-able report, kept as meta["transfer"]
Init = Callable[[Tagger, Vocabs, str], dict]


def _tokenize(tokenizer, sentences, cbs, what: str):
    workers = min(2, os.cpu_count() or 1)  # Kkma: one JVM per worker process
    res = tokenizer.tokenize_many([s.text for s in sentences], cache=True, workers=workers,
                                  progress=lambda d, t: [c.on_tokenize(d, t) for c in cbs])
    for idx, reason in res.fallbacks:
        _say(cbs, f"{what} sentence {idx + 1}: {tokenizer.name} fallback: {reason}")
    return res


def prepare(train_s, dev_s, tokenizer, vocabs: Optional[Vocabs], types, cbs, data_cfg, bigrams, aux_pos=False):
    """Tokenize both splits, report coverage, build vocabs from train only, encode;
    with ``aux_pos``, the training units' silver POS too (``aux_pos``, see :func:`_silver`)."""
    from tagger.tokenizers import entity_boundary_coverage
    t0 = time.perf_counter()
    tr, dv = _tokenize(tokenizer, train_s, cbs, "train"), _tokenize(tokenizer, dev_s, cbs, "dev")
    tokenizer.close()  # the analyzer's worker processes are not needed while training
    stats = {"tokenize_seconds": time.perf_counter() - t0,
             "cache_hits": tr.cache_hits + dv.cache_hits, "analyzed": tr.analyzed + dv.analyzed,
             "fallbacks": len(tr.fallbacks) + len(dv.fallbacks)}
    cov = entity_boundary_coverage(train_s, tr.tokens)
    stats["coverage"] = cov["coverage"]
    if vocabs is None:
        vocabs = build_vocabs(tr.tokens, types, tokenizer.name, data_cfg, bigrams=bigrams)
    stats["dev_oov_rate"] = oov_rate(vocabs, dv.tokens)
    _say(cbs, f"tokenized with {tokenizer.name} in {stats['tokenize_seconds']:.1f}s "
              f"({stats['cache_hits']} cached); entity boundary coverage {cov['coverage']:.2%}; "
              f"vocabulary {len(vocabs.words)}; dev OOV rate {stats['dev_oov_rate']:.2%}")
    silver = _silver(train_s, tr.tokens, vocabs, cbs) if aux_pos else None
    enc_tr = encode(tr.tokens, vocabs, [spans_to_token_tags(t, s.spans) for t, s in zip(tr.tokens, train_s)],
                    silver)
    enc_dv = encode(dv.tokens, vocabs)
    enc_dv.extra["tokens"] = dv.tokens
    return vocabs, enc_tr, enc_dv, stats


def _silver(train_s, token_lists, vocabs: Vocabs, cbs) -> list[list[str]]:
    """The auxiliary loss's targets: Kiwi's silver POS per training unit; its
    vocabulary is built here, from train, unless resuming brought one."""
    from tagger.training.silver import unit_pos_tags
    t0 = time.perf_counter()
    tags = unit_pos_tags([s.text for s in train_s], token_lists)
    if vocabs.aux_pos is None:
        vocabs.aux_pos = Vocab.build(t for row in tags for t in row)
    _say(cbs, f"silver POS for the auxiliary loss: {len(vocabs.aux_pos) - 2} tags, "
              f"{time.perf_counter() - t0:.1f}s")
    return tags


def train(train_sentences: Sequence[Sentence], dev_sentences: Optional[Sequence[Sentence]] = None, *,
          tokenizer: str = "char", model_config: TaggerConfig = TaggerConfig(),
          train_config: TrainConfig = TrainConfig(), data_config: DataConfig = DataConfig(),
          granularity: str = "char", scheme: str = "bio", callbacks: Sequence[Callback] = (),
          resume: Optional[dict] = None, init: Optional[Init] = None) -> TaggerModel:
    """Train a tagger; returns the model at its best dev epoch. ``resume`` is a
    checkpoint dict (see :func:`resume_from`) to continue from. ``init``
    initialises the fresh module (not on resume): with ``init_lm`` set,
    ``tagger.api.train`` passes ``partial(init_from_lm, path=init_lm)``.
    Under ``torchrun`` every rank calls this and trains data-parallel (see
    :mod:`tagger.training.distributed`); every rank returns the same model."""
    cbs, cfg = list(callbacks), train_config
    if dev_sentences is None:
        train_sentences, dev_sentences = holdout_split(train_sentences, cfg.dev_fraction)
        _say(cbs, f"no dev set: holding out {len(dev_sentences)} of the training sentences as dev")
    if not train_sentences or not dev_sentences:
        raise TaggerError("training needs at least one training and one dev sentence")
    with distributed.session(resolve_device(cfg.device)) as device:
        return _train_on(device, train_sentences, dev_sentences, tokenizer, model_config, cfg, data_config,
                         granularity, scheme, cbs, resume, init)


def _train_on(device, train_sentences, dev_sentences, tokenizer, model_config, cfg, data_config,
              granularity, scheme, cbs, resume, init) -> TaggerModel:
    """``train`` on ``device`` (this rank's, under torchrun)."""
    from tagger.tokenizers import get_tokenizer
    _say(cbs, f"device: {device}" + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""))
    torch.manual_seed(cfg.seed)
    tok = get_tokenizer(tokenizer)
    types = sorted({sp.label for s in train_sentences for sp in s.spans})
    vocabs, enc_tr, enc_dv, stats = prepare(
        train_sentences, dev_sentences, tok, resume["vocabs"] if resume else None, types, cbs,
        data_config, bigrams=model_config.bigram_dim > 0, aux_pos=model_config.aux_pos_weight > 0)
    module = Tagger(model_config, vocabs.sizes(), vocabs.tags)
    meta = {"tagger_config": asdict(model_config), "train_config": asdict(cfg),
            "data_config": asdict(data_config), "granularity": granularity, "scheme": scheme, "tokenize": stats}
    if cfg.init_lm and init is None and not resume:
        raise TaggerError(f"init_lm {cfg.init_lm}: starting from an LM needs tagger.api.train (or init=)")
    if init is not None and not resume:
        meta["transfer"] = _initialise(init, module, vocabs, tok.name, cbs)
    model = TaggerModel(module.to(device), vocabs, tok.name, tok.version, meta)
    loop = TaggerLoop(model, enc_tr.to(device), enc_dv.to(device), dev_sentences, cfg, cbs, device)
    if resume:
        loop.restore(resume)
    loop.distribute("loss")
    loop.run()
    return model


def _initialise(init: Init, module, vocabs, tokenizer, cbs) -> dict:
    report = init(module, vocabs, tokenizer)
    if "lm" in report:
        _say(cbs, f"started from the LM {report['lm']}: {report['embeddings_copied']} of {report['vocabulary']} "
                  "token embeddings; first forward layer " + ("copied" if report["first_layer"]
                                                              else f"not copied: {report['first_layer_skipped']}"))
    elif report.get("warm_start"):
        rows = ", ".join(f"{k} {n}/{report['rows_total'][k]}" for k, n in report["rows_copied"].items())
        _say(cbs, f"warm start from the previous model: {report['params_copied']} parameters copied whole, "
                  f"{report['params_skipped']} skipped; rows matched: {rows}")
    return report


def resume_from(directory) -> dict:
    """A tagger's ``checkpoint.pt`` in ``directory``, ready to continue: the
    keyword arguments of ``train``/``api.train`` (``resume`` with its
    vocabularies rebuilt, ``model_config``, ``train_config``, ``data_config``,
    ``tokenizer``) from the configs the checkpoint recorded."""
    ck = load_checkpoint(directory)
    ck["vocabs"] = Vocabs.from_json(ck["vocabs"])
    meta, where = ck["meta"], Path(directory)
    return {"resume": ck, "model_config": config_from_json(TaggerConfig, meta["tagger_config"], where),
            "train_config": config_from_json(TrainConfig, meta["train_config"], where),
            "data_config": config_from_json(DataConfig, meta.get("data_config", {}), where),
            "tokenizer": ck["tokenizer"][0]}


class TaggerLoop(EpochLoop):
    """The tagger's epochs: a length-bucketed pass, then dev scores at the
    corpus's granularity (entity F1, or token accuracy for plain labels)."""
    BEST_KEY = "best_f1"

    def __init__(self, model: TaggerModel, enc_tr, enc_dv, dev_sentences, cfg: TrainConfig, cbs, device):
        super().__init__(model.module, cfg, cbs)
        self.forward = model.module.loss  # ``distribute("loss")`` wraps it in DDP under torchrun
        self.model, self.enc_tr, self.enc_dv, self.dev, self.device = model, enc_tr, enc_dv, dev_sentences, device

    def checkpoint(self) -> dict:
        return {**super().checkpoint(), "vocabs": self.model.vocabs.to_json(), "meta": self.model.meta,
                "tokenizer": [self.model.tokenizer, self.model.tokenizer_version]}

    def run(self) -> None:
        super().run()
        self.model.meta["history"] = self.history
        best = max(self.history, key=lambda r: r.get("dev_score", r["dev_f1"])) if self.history else {}
        self.model.meta["best_epoch"] = best.get("epoch")
        self.model.meta["dev_scores"] = best.get("dev_scores")

    def one_epoch(self) -> dict:
        total, n_tokens, seconds = self.train_pass()
        scores = self.dev_scores()
        plain = scores.get("scheme") == "plain"
        metric = "accuracy" if plain else "entity_f1"
        self.keep_if_best(scores[metric])
        return {"epoch": self.epoch, "loss": total / max(n_tokens, 1),
                "dev_f1": scores["macro_f1" if plain else "entity_f1"], "dev_metric": metric,
                "dev_score": scores[metric], "dev_precision": scores.get("precision"),
                "dev_recall": scores.get("recall"), "dev_accuracy": scores["accuracy"],
                "train_seconds": seconds, "tokens_per_s": n_tokens / max(seconds, 1e-9),
                "best": self.bad == 0, "dev_scores": _brief(scores)}

    def train_pass(self) -> tuple[float, int, float]:
        """One pass over the training batches: (summed loss, real tokens,
        seconds); under DDP this rank's share of the batches, the sums over
        every rank. ``bench train`` times exactly this."""
        module, enc = self.model.module, self.enc_tr
        t0 = time.perf_counter()
        module.train()
        batches = length_batches(enc.lengths, self.cfg.batch_size, shuffle=True, generator=self.gen)
        batches = distributed.shard_batches(batches)
        total = torch.zeros((), device=self.device)
        # all batch indices reach the device in one copy, not one per step
        on_device = torch.cat([idx for idx, _ in batches]).to(self.device, non_blocking=True)
        rows = on_device.split([len(idx) for idx, _ in batches])
        for step, ((_, max_len), idx) in enumerate(zip(batches, rows), 1):
            batch = enc.batch(idx, max_len)
            loss = self.forward(batch)
            n = batch["mask"].sum()
            self.step(loss, n)
            total += loss.detach() * n
            for c in self.cbs:
                c.on_batch(self.epoch, step, len(batches))
        if distributed.active():
            total, n_tokens = distributed.all_sum(total, sum(int(enc.lengths[b].sum()) for b, _ in batches))
            return total, int(n_tokens), time.perf_counter() - t0
        total = float(total)  # the one host sync of the pass
        return total, int(enc.lengths.sum()), time.perf_counter() - t0

    def dev_scores(self) -> dict:
        """Under DDP each rank decodes its share of the dev sentences and every
        rank scores all of them: the same figure everywhere."""
        tokens = self.enc_dv.extra["tokens"]
        decode = lambda rows: decode_encoded(self.model.module, _rows(self.enc_dv, rows),  # noqa: E731
                                             self.cfg.eval_batch_size)
        preds = (distributed.gather_shards(decode, len(tokens)) if distributed.active()
                 else decode_encoded(self.model.module, self.enc_dv, self.cfg.eval_batch_size))
        spans = [self.model.spans(toks, tags, conf) for toks, (tags, conf) in zip(tokens, preds)]
        score = ev.score_plain if self.model.meta.get("scheme") == "plain" else ev.score
        return score(self.dev, [[s for s, _ in sp] for sp in spans], self.model.meta["granularity"])


def _rows(enc: Encoded, rows: list[int]) -> Encoded:
    """The sentences ``rows`` of ``enc`` (sharing its flat tensors)."""
    idx = torch.tensor(rows, dtype=torch.long)
    on = idx.to(enc.starts.device)
    return Encoded(enc.flat, enc.lengths[idx], enc.starts[on], enc.dev_lengths[on])


def _brief(scores: dict) -> dict:
    return {k: v for k, v in scores.items() if k not in ("per_type", "per_tag")}


def with_overrides(cfg, **kw):
    """``dataclasses.replace`` ignoring ``None`` values (CLI options not given)."""
    return replace(cfg, **{k: v for k, v in kw.items() if v is not None})


__all__ = ["TrainConfig", "Callback", "train", "holdout_split", "with_overrides", "resume_from", "prepare"]
