"""The body of a background training run (``python -m tagger.runs RUN_ID``):
a tagger, or a language model or classifier (``run_tasks``). Train with
callbacks that write progress, history and log lines into the
workspace catalogue and a checkpoint into ``runs/<id>/``, then register the
model. SIGTERM (cancel) stops it between batches."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
import traceback

from tagger.runs.tasks import task_of
from tagger.core import TaggerError
from tagger.training.loop import Callback
from tagger.workspace.store import Workspace


class Cancelled(BaseException):
    """Raised from the SIGTERM handler; not an Exception, so nothing swallows it."""


def _on_term(signum, frame):
    raise Cancelled()


def install_cancel_handler() -> None:
    """SIGTERM -> Cancelled (the worker process's main thread only)."""
    signal.signal(signal.SIGTERM, _on_term)


class RunReporter(Callback):
    """Writes what ``train`` reports into the catalogue, at most every
    ``every`` seconds for batch/tokenize progress."""

    def __init__(self, ws: Workspace, run_id: str, epochs: int, start_epoch: int = 0, every: float = 0.5,
                 task: str = "tagger"):
        from tagger.runs.tasks import DEV_METRIC
        self.ws, self.rid, self.epochs, self.every = ws, run_id, epochs, every
        self.start_epoch, self.t_train, self.last = start_epoch, None, 0.0
        self.tokens_per_s, self.loss, self.dev_score = None, None, None
        self.metric, self.metric_label, _ = DEV_METRIC[task]
        self.folder = ws.root / "runs" / run_id

    def _progress(self, **p) -> None:
        p.update(epochs=self.epochs, tokens_per_s=self.tokens_per_s, loss=self.loss,
                 dev_score=self.dev_score, dev_metric=self.metric)
        if self.metric == "dev_f1":
            p["dev_f1"] = self.dev_score
        self.ws.execute("UPDATE runs SET progress=? WHERE id=?", (json.dumps(p), self.rid))

    def on_message(self, text: str) -> None:
        self.ws.execute("INSERT INTO run_log (run_id, t, text) VALUES (?,?,?)", (self.rid, time.time(), text))

    def on_tokenize(self, done: int, total: int) -> None:
        now = time.time()
        if now - self.last >= self.every or done == total:
            self.last = now
            self._progress(phase="tokenizing", done=done, total=total, epoch=self.start_epoch,
                           fraction=self.start_epoch / max(self.epochs, 1))

    def on_batch(self, epoch: int, step: int, steps: int) -> None:
        now = time.time()
        if self.t_train is None:
            self.t_train = now
        if now - self.last < self.every and step != steps:
            return
        self.last = now
        frac = (epoch - 1 + step / steps) / max(self.epochs, 1)
        start = self.start_epoch / max(self.epochs, 1)
        done = frac - start
        eta = (now - self.t_train) * (1 - frac) / done if done > 0 else None
        self._progress(phase="training", epoch=epoch, step=step, steps=steps, fraction=frac, eta_s=eta)

    def on_epoch(self, record: dict) -> None:
        per_s, unit = ((record["tokens_per_s"], "tokens/s") if "tokens_per_s" in record
                       else (record.get("sentences_per_s", 0.0), "sentences/s"))
        self.tokens_per_s, self.loss, self.dev_score = per_s, record["loss"], record[self.metric]
        self.ws.execute("INSERT OR REPLACE INTO run_epochs VALUES (?,?,?)",
                        (self.rid, record["epoch"], json.dumps(record)))
        self.on_message(f"epoch {record['epoch']}/{self.epochs}: loss {record['loss']:.4f}, {self.metric_label} "
                        f"{self.dev_score:.4f}, {per_s:,.0f} {unit}"
                        + (" (best so far)" if record.get("best") else ""))
        self._progress(phase="training", epoch=record["epoch"], fraction=record["epoch"] / max(self.epochs, 1),
                       eta_s=None)

    def on_checkpoint(self, state: dict) -> None:
        from tagger.models.saving import save_checkpoint
        save_checkpoint(state, self.folder)


def _resume_state(folder):
    """A tagger run's ``train(...)`` arguments from its last checkpoint, or None."""
    from tagger.models.saving import CHECKPOINT
    from tagger.training.tagger import resume_from
    return resume_from(folder) if (folder / CHECKPOINT).is_file() else None


def _checkpoint(folder):
    """An LM or classifier run's last checkpoint (plain tensors only), or None."""
    from tagger.models.saving import CHECKPOINT, load_checkpoint
    return load_checkpoint(folder) if (folder / CHECKPOINT).is_file() else None


def _device_label(name: str) -> str:
    import torch
    from tagger.models.saving import resolve_device
    dev = resolve_device(name)
    return f"cuda ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else "cpu"


def _train(ws: Workspace, rid: str, cfg: dict):
    import torch
    from tagger import api
    torch.set_num_threads(max(1, int(cfg.get("threads") or 1)))
    folder = ws.root / "runs" / rid
    device = _device_label((cfg.get("train") or cfg.get("loop") or {}).get("device", "auto"))  # loop: LoopConfig
    ws.execute("UPDATE runs SET status='running', started=COALESCE(started, ?), device=?, pid=? "
               "WHERE id=? AND status='queued'", (time.time(), device, os.getpid(), rid))
    if ws.one("SELECT status FROM runs WHERE id=?", (rid,))["status"] != "running":
        raise Cancelled()
    if task_of(cfg) != "tagger":
        return _train_task(ws, rid, cfg, device)
    train_c = ws.corpus(cfg["train_id"], corrected=bool(cfg.get("corrected")))
    dev_c = ws.corpus(cfg["dev_id"], corrected=bool(cfg.get("corrected"))) if cfg.get("dev_id") else None
    resumed = _resume_state(folder)
    epochs = int(cfg["train"].get("epochs", 30))
    reporter = RunReporter(ws, rid, epochs, start_epoch=resumed["resume"]["epoch"] if resumed else 0)
    if resumed:
        reporter.on_message(f"resuming after epoch {resumed['resume']['epoch']}")
        resumed.pop("tokenizer")  # the run's own tokenizer, as before
    model = api.train(train_c, dev_c, tokenizer=cfg["tokenizer"], callbacks=[reporter],
                      **(resumed or {**cfg["model"], **cfg["train"]}))
    return _register(ws, rid, cfg, model, device, reporter)


def _register(ws: Workspace, rid: str, cfg: dict, model, device: str, reporter) -> str:
    from tagger.workspace import models as ws_models
    model.meta.update(run_id=rid, device=device, train_data=ws.dataset(cfg["train_id"])["name"],
                      dev_data=ws.dataset(cfg["dev_id"])["name"] if cfg.get("dev_id") else None)
    row = ws_models.register(ws, model, name=ws.one("SELECT name FROM runs WHERE id=?", (rid,))["name"],
                             run_id=rid)
    reporter.on_message(f"model registered as {row['id']}")
    return row["id"]


def _train_task(ws: Workspace, rid: str, cfg: dict, device: str) -> str:
    """A language model, a sentence classifier or a loop round. Window and RNN LMs and
    classifiers resume from their last checkpoint; an n-gram counts in one
    go (it keeps none), so a resumed run of it starts again."""
    from tagger.runs.tasks import TASK_NAMES, epochs_of, finish_task, train_task
    task = task_of(cfg)
    folder = ws.root / "runs" / rid
    resume = _checkpoint(folder) if task in ("lm", "classifier") else None
    start = int(resume["epoch"]) if resume else 0
    reporter = RunReporter(ws, rid, epochs_of(cfg), start_epoch=start, task=task)
    if resume:
        reporter.on_message(f"resuming after epoch {start}")
        ws.execute("DELETE FROM run_epochs WHERE run_id=? AND epoch>?", (rid, start))
    elif ws.one("SELECT COUNT(*) n FROM run_epochs WHERE run_id=?", (rid,))["n"]:
        reporter.on_message(f"no checkpoint of this {TASK_NAMES[task]} run: starting again from the beginning")
        ws.execute("DELETE FROM run_epochs WHERE run_id=?", (rid,))
    reporter.on_message(f"training a {TASK_NAMES[task]} on {ws.dataset(cfg['train_id'])['name']} "
                        f"({cfg['tokenizer']} tokens)")
    model = train_task(ws, cfg, [reporter], resume=resume)
    dev = model.meta.get("dev") or model.meta.get("dev_scores") or {}
    summary = ", ".join(f"{k} {dev[k]:.4f}" for k in ("perplexity", "bits_per_char", "accuracy", "macro_f1")
                        if isinstance(dev.get(k), (int, float)))
    if summary:
        reporter.on_message(f"held-out {summary}")
    model_id = _register(ws, rid, cfg, model, device, reporter)
    finish_task(ws, rid, cfg, model, model_id, reporter.on_message)  # a loop round publishes its order
    return model_id


def _finish(ws: Workspace, rid: str, status: str, error=None, model_id=None) -> None:
    ws.execute("UPDATE runs SET status=?, finished=?, error=?, model_id=COALESCE(?, model_id) "
               "WHERE id=? AND status IN ('queued', 'running')", (status, time.time(), error, model_id, rid))


def execute(ws: Workspace, run_id: str) -> int:
    """Run ``run_id`` to the end in this process; returns an exit status."""
    try:
        row = ws.one("SELECT * FROM runs WHERE id=?", (run_id,))
        if row is None:
            raise TaggerError(f"run {run_id} is not in this workspace")
        model_id = _train(ws, run_id, row["config"])
        _finish(ws, run_id, "done", model_id=model_id)
        return 0
    except Cancelled:
        _finish(ws, run_id, "cancelled")
        return 1
    except TaggerError as err:
        _log(ws, run_id, f"failed: {err}")
        _finish(ws, run_id, "failed", error=str(err))
        return 2
    except (OSError, sqlite3.OperationalError) as err:  # a full disk, a read-only workspace
        from tagger.workspace.ids import storage_error
        _log(ws, run_id, traceback.format_exc())
        _finish(ws, run_id, "failed", error=f"cannot write to the workspace: {storage_error(err)}; "
                "the last checkpoint is kept: resume when there is room")
        return 1
    except Exception as err:  # noqa: BLE001 - a run must end with a status, never silently
        _log(ws, run_id, traceback.format_exc())
        _finish(ws, run_id, "failed", error=f"{type(err).__name__}: {err}")
        return 1


def _log(ws, rid, text):
    ws.execute("INSERT INTO run_log (run_id, t, text) VALUES (?,?,?)", (rid, time.time(), text))
