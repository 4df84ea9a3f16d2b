"""The tasks of a background run besides the tagger: a language model, a
sentence classifier and a round of the annotation loop. A run config names
its task (``task``: ``tagger``, the default, so runs made before tasks existed
stay taggers; ``lm``; ``classifier``; ``loop``); this module checks the
settings of the other tasks and trains them in the run process (``worker``).

    {"task": "lm", "train_id": …, "dev_id": …, "tokenizer": "kkma",
     "lm_kind": "ngram|window|rnn", "lm": {<that kind's config fields>},
     "train": {<LMTrainConfig fields>}, "data": {<LMDataConfig fields>}}
    {"task": "classifier", "train_id": …, "dev_id": …, "tokenizer": "char",
     "model": {<ClassifierConfig fields>}, "train": {<TrainConfig fields>}}
    {"task": "loop", "train_id": <the reviewed dataset>, "labelled_id": … or null,
     "reviewer": …, "blind": false, "tokenizer": "char", "loop": {<LoopConfig fields>}}

The LM reads the sentence text of any dataset (labels ignored); the
classifier needs ``text-label`` datasets. Window/RNN LMs and classifiers
checkpoint every epoch and resume from their last checkpoint; an n-gram LM
keeps none: resuming one counts again. A loop round (``tagger.workspace.loop``)
trains on the dataset's reviewed sentences, warm-started from the previous
round's model, and once its model is registered (``finish_task``) publishes its
suggestions, its uncertainty order and its history row; resuming one starts
the round again."""
from __future__ import annotations

from dataclasses import fields, replace

from tagger.core import TaggerError
from tagger.workspace.store import Workspace

TASKS = ("tagger", "lm", "classifier", "loop")
TASK_NAMES = {"tagger": "tagger", "lm": "language model", "classifier": "sentence classifier", "loop": "loop round"}
# per task: the epoch record's dev metric, its label, and whether higher is better
DEV_METRIC = {"tagger": ("dev_f1", "dev F1", True), "lm": ("dev_perplexity", "dev perplexity", False),
              "classifier": ("dev_accuracy", "dev accuracy", True), "loop": ("dev_f1", "dev F1", True)}


def task_of(cfg: dict) -> str:
    """The run's task; ``ner`` (the name runs were first saved with) is the tagger."""
    task = cfg.get("task") or "tagger"
    task = "tagger" if task == "ner" else task
    if task not in TASKS:
        raise TaggerError(f"unknown task {task!r} (choose from {', '.join(TASKS)})")
    return task


def _part(cfg: dict, part: str, cls):
    """``cfg[part]`` as a ``cls`` (unknown setting names refused)."""
    cfg[part] = dict(cfg.get(part) or {})
    unknown = set(cfg[part]) - {f.name for f in fields(cls)}
    if unknown:
        raise TaggerError(f"unknown {part} settings: {', '.join(sorted(unknown))}")
    try:
        return cls(**cfg[part])
    except TypeError as err:
        raise TaggerError(f"bad {part} settings: {err}") from None


def _positive(values: dict, names) -> None:
    bad = [n for n in names if n in values and (values[n] is None or values[n] < 1)]
    if bad:
        raise TaggerError(f"{', '.join(bad)}: must be at least 1")
    if not 0 <= float(values.get("dropout", 0)) < 1:
        raise TaggerError(f"dropout {values['dropout']}: must be in [0, 1)")


def _check_lm(cfg: dict) -> None:
    from tagger.lm import CONFIGS, KINDS, LMDataConfig, LMTrainConfig
    from tagger.lm.ngram import check_config
    from tagger.models.layers import CELLS
    kind = cfg.setdefault("lm_kind", "ngram")
    if kind not in KINDS:
        raise TaggerError(f"unknown LM kind {kind!r} (choose from {', '.join(KINDS)})")
    lm = cfg["lm"] = dict(cfg.get("lm") or {})
    if kind == "rnn" and lm.get("tie", CONFIGS["rnn"]().tie):  # tied embeddings (the default) have the hidden size
        lm["embedding_dim"] = lm.get("hidden_size", CONFIGS["rnn"]().hidden_size)
    c = _part(cfg, "lm", CONFIGS[kind])
    if kind == "ngram":
        check_config(c)
    if kind == "window" and c.order < 2:
        raise TaggerError(f"order {c.order}: a window LM needs order >= 2")
    if kind == "rnn" and c.cell not in CELLS:
        raise TaggerError(f"unknown cell {c.cell!r} (choose from {', '.join(CELLS)})")
    _positive(cfg["lm"], ("hidden_size", "embedding_dim", "num_layers"))
    tc = _part(cfg, "train", LMTrainConfig)
    _positive(cfg["train"], ("epochs", "batch_size", "bptt", "window_batch"))
    if tc.lr <= 0:
        raise TaggerError(f"learning rate {tc.lr}: must be positive")
    _part(cfg, "data", LMDataConfig)
    _positive(cfg["data"], ("min_freq",))


def _check_classifier(ws: Workspace, cfg: dict) -> None:
    from tagger.models.classifier import POOLINGS, ClassifierConfig
    from tagger.models.layers import CELLS
    from tagger.training.loop import TrainConfig
    for key in ("train_id", "dev_id"):
        d = ws.dataset(cfg[key]) if cfg.get(key) else None
        if d is not None and d["format"] != "text-label":
            raise TaggerError(f"{d['name']}: a classifier learns from a text-label dataset "
                              f"(TEXT<TAB>LABEL lines), not {d['format']}")
    c = _part(cfg, "model", ClassifierConfig)
    if c.rnn_type not in CELLS or c.pooling not in POOLINGS:
        raise TaggerError(f"unknown cell {c.rnn_type!r} or pooling {c.pooling!r}")
    _positive(cfg["model"], ("hidden_size", "embedding_dim", "num_layers", "min_freq"))
    tc = _part(cfg, "train", TrainConfig)
    _positive(cfg["train"], ("epochs", "batch_size", "patience"))
    if tc.lr <= 0:
        raise TaggerError(f"learning rate {tc.lr}: must be positive")


def check_task(ws: Workspace, cfg: dict) -> None:
    """Normalise an lm, classifier or loop run config in place, or a TaggerError."""
    if cfg["task"] == "lm":
        _check_lm(cfg)
    elif cfg["task"] == "loop":
        _check_loop(ws, cfg)
    else:
        _check_classifier(ws, cfg)


def epochs_of(cfg: dict) -> int:
    """The epochs a run trains at most (0 for an n-gram LM: it only counts)."""
    from tagger.lm import LMTrainConfig
    from tagger.training.loop import TrainConfig
    task, train = task_of(cfg), cfg.get("train") or {}
    if task == "loop":  # a first round (nothing to warm-start from) has the fresh budget
        from tagger.training.active import LoopConfig
        c = LoopConfig(**(cfg.get("loop") or {}))
        return c.epochs if cfg.get("warm") else c.fresh_epochs
    if task == "lm":
        return 0 if cfg.get("lm_kind") == "ngram" else int(train.get("epochs") or LMTrainConfig().epochs)
    return int(train.get("epochs") or TrainConfig().epochs)


def default_name(ws: Workspace, cfg: dict) -> str:
    base = f"{ws.dataset(cfg['train_id'])['name']} · {cfg['tokenizer']}"
    task = task_of(cfg)
    return {"lm": f"LM {cfg.get('lm_kind')} · {base}", "classifier": f"classifier · {base}",
            "loop": f"loop round · {base}"}.get(task, base)


def _texts(ws: Workspace, dataset_id) -> list[str]:
    from tagger.workspace.lm import dataset_texts
    return dataset_texts(ws, dataset_id, "train a language model on")


def _labelled(ws: Workspace, dataset_id) -> list:
    d = ws.dataset(dataset_id)
    corpus = ws.corpus(d["id"])
    if corpus.has_errors():
        raise TaggerError(f"{d['name']} has errors (see its validation report on the Data page)")
    return list(corpus.sentences)


def train_task(ws: Workspace, cfg: dict, callbacks, resume=None):
    """Train the run's LM, classifier or loop round with ``callbacks`` (an LM
    or classifier from the checkpoint ``resume`` when given); returns the model."""
    if task_of(cfg) == "loop":
        return _train_loop(ws, cfg, callbacks)
    if task_of(cfg) == "lm":
        from tagger.lm import CONFIGS, LMDataConfig, train_defaults, train_lm
        dev = _texts(ws, cfg["dev_id"]) if cfg.get("dev_id") else None
        tc = replace(train_defaults(cfg["lm_kind"]), **cfg["train"])  # the kind's defaults under the form's
        return train_lm(_texts(ws, cfg["train_id"]), dev, kind=cfg["lm_kind"], tokenizer=cfg["tokenizer"],
                        config=CONFIGS[cfg["lm_kind"]](**cfg["lm"]), train_config=tc,
                        data_config=LMDataConfig(**cfg.get("data", {})), callbacks=callbacks, resume=resume)
    from tagger.models.classifier import ClassifierConfig
    from tagger.training.classifier import train_classifier
    from tagger.training.loop import TrainConfig
    dev = _labelled(ws, cfg["dev_id"]) if cfg.get("dev_id") else None
    return train_classifier(_labelled(ws, cfg["train_id"]), dev, tokenizer=cfg["tokenizer"],
                            config=ClassifierConfig(**cfg["model"]), train_config=TrainConfig(**cfg["train"]),
                            callbacks=callbacks, resume=resume)


# ---- the annotation loop's rounds ---------------------------------------------------
def _check_loop(ws: Workspace, cfg: dict) -> None:
    from tagger.models.tagger import TaggerConfig
    from tagger.models.uncertainty import MEASURES
    from tagger.training.active import LoopConfig
    from tagger.workspace import loop
    from tagger.workspace.status import clean_reviewer
    d = ws.dataset(cfg["train_id"])
    if ws.corpus(d["id"]).granularity is None:
        raise TaggerError(f"{d['name']} is {d['format']} (no entity labels): the loop reviews labelled datasets")
    cfg["labelled_id"] = ws.dataset(cfg["labelled_id"])["id"] if cfg.get("labelled_id") else None
    cfg["reviewer"], cfg["blind"] = clean_reviewer(cfg.get("reviewer")), bool(cfg.get("blind"))
    _part(cfg, "model", TaggerConfig)
    _positive(cfg["model"], ("hidden_size", "embedding_dim", "num_layers"))
    measure = (cfg.get("loop") or {}).get("measure") or LoopConfig().measure
    if measure not in MEASURES:
        raise TaggerError(f"unknown uncertainty measure {measure!r} (choose from {', '.join(MEASURES)})")
    _part(cfg, "loop", LoopConfig)
    cfg["loop"]["measure"] = measure  # the measure a round ranks by, named in its history row
    _positive(cfg["loop"], ("epochs", "patience", "batch_size", "fresh_epochs", "fresh_patience", "fresh_batch_size"))
    cfg["warm"] = bool(loop.state(ws, d["id"])["rounds"])  # a previous round to warm-start from


def _previous(ws: Workspace, did: str, say) -> tuple:
    """(the last round's model to warm-start from, its id), or (None, None): a
    first round, or the last round's model deleted."""
    from tagger.workspace import loop, models as ws_models
    rounds = loop.state(ws, did)["rounds"]
    if not rounds:
        return None, None
    try:
        return ws_models.load(ws, rounds[-1]["model_id"]), rounds[-1]["model_id"]
    except TaggerError as err:
        say(f"starting from a fresh model: {err}")
        return None, None


def _train_loop(ws: Workspace, cfg: dict, callbacks):
    """A round: the reviewed sentences (``loop.round_data``), warm-started from
    the last round's model with its settings (its tokenizer and ``TaggerConfig``:
    the weights fit), else a fresh model of the run's ``model`` settings."""
    from tagger.models.tagger import TaggerConfig
    from tagger.training.active import LoopConfig, train_round
    from tagger.workspace import loop
    say = lambda text: [c.on_message(text) for c in callbacks]  # noqa: E731
    data = loop.round_data(ws, cfg["train_id"], cfg["reviewer"], cfg["blind"], cfg.get("labelled_id"))
    previous, prev_id = _previous(ws, cfg["train_id"], say)
    names = {f.name for f in fields(TaggerConfig)}
    settings = {k: v for k, v in previous.meta["tagger_config"].items() if k in names} if previous else cfg["model"]
    say(f"training on {data['reviewed']} reviewed sentences ({len(data['heldout'])} held out) and "
        f"{data['labelled_sentences']} labelled ones; " + (f"warm start from {prev_id}" if previous else "a fresh model"))
    model = train_round(data["train"], previous, tokenizer=previous.tokenizer if previous else cfg["tokenizer"],
                        config=LoopConfig(**cfg["loop"]), callbacks=callbacks, model_config=TaggerConfig(**settings))
    model.meta["loop"] = {"dataset_id": cfg["train_id"], "reviewed": data["reviewed"], "warm_start": prev_id,
                          "labelled_id": cfg.get("labelled_id"), "labelled_sentences": data["labelled_sentences"],
                          "heldout_size": len(data["heldout"])}
    return model


def finish_task(ws: Workspace, rid: str, cfg: dict, model, model_id: str, say) -> None:
    """After the run's model is registered: a loop round publishes its
    suggestions, order and history row (``loop.finish_round``); other tasks: nothing."""
    if task_of(cfg) != "loop":
        return
    from tagger.workspace import loop
    say(f"predicting and ranking the unreviewed sentences by {cfg['loop']['measure']}")
    started = ws.one("SELECT started FROM runs WHERE id=?", (rid,))["started"]
    row = loop.finish_round(ws, cfg["train_id"], model_id, {
        **model.meta["loop"], "run_id": rid, "reviewer": cfg["reviewer"], "blind": cfg["blind"],
        "measure": cfg["loop"]["measure"], "started": started})
    f1 = "–" if row["heldout_f1"] is None else f"{row['heldout_f1']:.4f}"
    say(f"round {row['round']} published: held-out F1 {f1} on {row['heldout_size']} sentences")
