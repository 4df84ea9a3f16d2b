"""The tasks of a background run besides the tagger: a language model and a
sentence classifier. A run config names its task (``task``: ``tagger``, the
default, so runs made before tasks existed stay taggers; ``lm``;
``classifier``); this module checks the settings of the two new tasks and
trains them in the run process (``run_worker``).

    {"task": "lm", "train_id": …, "dev_id": …, "tokenizer": "kkma",
     "lm_kind": "ngram|window|rnn", "lm": {<that kind's config fields>},
     "train": {<LMTrainConfig fields>}, "data": {<LMDataConfig fields>}}
    {"task": "classifier", "train_id": …, "dev_id": …, "tokenizer": "char",
     "model": {<ClassifierConfig fields>}, "train": {<TrainConfig fields>}}

The LM reads the sentence text of any dataset (labels ignored); the
classifier needs ``text-label`` datasets. Window/RNN LMs and classifiers
checkpoint every epoch and resume from their last checkpoint; an n-gram LM
keeps none: resuming one counts again."""
from __future__ import annotations

from dataclasses import fields, replace

from tagger.core import TaggerError
from tagger.workspace.store import Workspace

TASKS = ("tagger", "lm", "classifier")
TASK_NAMES = {"tagger": "tagger", "lm": "language model", "classifier": "sentence classifier"}
# per task: the epoch record's dev metric, its label, and whether higher is better
DEV_METRIC = {"tagger": ("dev_f1", "dev F1", True), "lm": ("dev_perplexity", "dev perplexity", False),
              "classifier": ("dev_accuracy", "dev accuracy", True)}


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
    """Normalise an lm or classifier run config in place, or a TaggerError."""
    if cfg["task"] == "lm":
        _check_lm(cfg)
    else:
        _check_classifier(ws, cfg)


def epochs_of(cfg: dict) -> int:
    """The epochs a run trains at most (0 for an n-gram LM: it only counts)."""
    from tagger.lm import LMTrainConfig
    from tagger.training.loop import TrainConfig
    task, train = task_of(cfg), cfg.get("train") or {}
    if task == "lm":
        return 0 if cfg.get("lm_kind") == "ngram" else int(train.get("epochs") or LMTrainConfig().epochs)
    return int(train.get("epochs") or TrainConfig().epochs)


def default_name(ws: Workspace, cfg: dict) -> str:
    base = f"{ws.dataset(cfg['train_id'])['name']} · {cfg['tokenizer']}"
    task = task_of(cfg)
    return {"lm": f"LM {cfg.get('lm_kind')} · {base}", "classifier": f"classifier · {base}"}.get(task, base)


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
    """Train the run's LM or classifier with ``callbacks`` (from the
    checkpoint ``resume`` when given); returns the model."""
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
