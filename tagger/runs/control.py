"""Training runs in the background (a tagger, a language model or a sentence
classifier: the config's ``task``, see ``run_tasks``).

``start_run`` records a run and starts ``python -m tagger.runs RUN_ID`` as its
own process (own session, so closing the browser or restarting the app does
not stop it). The worker reports through ``Callback`` hooks into the
workspace catalogue (progress, per-epoch history, log), writes a checkpoint
after every epoch and registers the model when done. A run whose process is
gone while it says running is shown as interrupted; ``resume_run`` continues
it from its last checkpoint. ``cancel_run`` terminates the process group.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

from tagger.settings import REPO_ROOT, child_env
from tagger.core import TaggerError
from tagger.workspace.store import Workspace, check_id, clean_name, new_id

ACTIVE = ("queued", "running")
_CHILDREN: dict[int, subprocess.Popen] = {}
QUICK = {"tokenizer": "char", "model": {"hidden_size": 128, "num_layers": 1, "embedding_dim": 64},
         "train": {"epochs": 30, "batch_size": 4, "lr": 5e-3, "patience": 10}}


def setting_names() -> tuple[set, set]:
    from tagger.models.tagger import TaggerConfig
    from tagger.training.tagger import TrainConfig
    return {f.name for f in fields(TaggerConfig)}, {f.name for f in fields(TrainConfig)}


def default_threads() -> int:
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def check_config(ws: Workspace, config: dict) -> dict:
    """A normalised copy of a run config, or a TaggerError saying what is wrong."""
    from tagger.tokenizers import TOKENIZERS
    from tagger.runs.tasks import check_task, task_of
    cfg = json.loads(json.dumps(config))
    cfg["task"] = task_of(cfg)
    ws.dataset(cfg.get("train_id"))
    if cfg.get("dev_id"):
        ws.dataset(cfg["dev_id"])
    cfg.setdefault("tokenizer", "char")
    if cfg["tokenizer"] not in TOKENIZERS:
        raise TaggerError(f"unknown tokenizer {cfg['tokenizer']!r}")
    cfg["threads"] = int(cfg.get("threads") or default_threads())
    if cfg["task"] != "tagger":
        check_task(ws, cfg)
        return cfg
    m_names, t_names = setting_names()
    for part, names in (("model", m_names), ("train", t_names)):
        cfg[part] = dict(cfg.get(part) or {})
        unknown = set(cfg[part]) - names
        if unknown:
            raise TaggerError(f"unknown {part} settings: {', '.join(sorted(unknown))}")
    if int(cfg["train"].get("epochs", 1)) < 1:
        raise TaggerError("epochs must be at least 1")
    return cfg


def create_run(ws: Workspace, config: dict, name: str = "") -> str:
    from tagger.runs.tasks import default_name, epochs_of
    cfg = check_config(ws, config)
    rid = new_id("r")
    label = clean_name(name or default_name(ws, cfg), "run")
    epochs = epochs_of(cfg)
    ws.execute("INSERT INTO runs (id, name, created, status, config, progress) VALUES (?,?,?,?,?,?)",
               (rid, label, time.time(), "queued", json.dumps(cfg, ensure_ascii=False),
                json.dumps({"phase": "queued", "epoch": 0, "epochs": epochs, "fraction": 0.0})))
    (ws.root / "runs" / rid).mkdir(parents=True, exist_ok=True)
    return rid


def start_run(ws: Workspace, config: dict, name: str = "") -> str:
    """Record a run and start its worker process; returns the run id."""
    rid = create_run(ws, config, name)
    _spawn(ws, rid)
    return rid


def _spawn(ws: Workspace, rid: str) -> None:
    folder = ws.root / "runs" / rid
    folder.mkdir(parents=True, exist_ok=True)
    env = child_env(TAGGER_WORKSPACE=str(ws.root.resolve()))
    with open(folder / "worker.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "tagger.runs", rid], cwd=str(REPO_ROOT), env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    _CHILDREN[proc.pid] = proc
    ws.execute("UPDATE runs SET pid=?, pid_start=? WHERE id=?", (proc.pid, _start_ticks(proc.pid), rid))


def _start_ticks(pid: int):
    """The process's start time in clock ticks (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def alive(pid, pid_start=None) -> bool:
    if not pid:
        return False
    proc = _CHILDREN.get(pid)
    if proc is not None:
        return proc.poll() is None
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            fields_ = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return False
        return fields_[0] not in ("Z", "X") and (pid_start is None or fields_[19] == pid_start)
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def refresh(ws: Workspace) -> None:
    """Mark runs whose worker died (crash, kill, machine restart) as interrupted."""
    for r in ws.query("SELECT * FROM runs WHERE status IN ('queued', 'running')"):
        stale_queue = r["pid"] is None and time.time() - r["created"] > 60
        if stale_queue or (r["pid"] and not alive(r["pid"], r["pid_start"])):
            ws.execute("UPDATE runs SET status='interrupted', finished=?, error=? WHERE id=? AND status=?",
                       (time.time(), "the training process stopped without finishing (killed, crashed "
                        "or the machine restarted); resume continues from the last finished epoch",
                        r["id"], r["status"]))


def runs(ws: Workspace) -> list[dict]:
    refresh(ws)
    return ws.query("SELECT * FROM runs ORDER BY created DESC")


def run(ws: Workspace, run_id) -> dict:
    rid = check_id(run_id, "r")
    refresh(ws)
    row = ws.one("SELECT * FROM runs WHERE id=?", (rid,))
    if row is None:
        raise TaggerError(f"run {rid} is not in this workspace")
    return row


def history(ws: Workspace, run_id) -> list[dict]:
    rows = ws.query("SELECT record FROM run_epochs WHERE run_id=? ORDER BY epoch", (check_id(run_id, "r"),))
    return [r["record"] for r in rows]


def log_lines(ws: Workspace, run_id, last: int = 200) -> list[str]:
    rows = ws.query("SELECT t, text FROM run_log WHERE run_id=? ORDER BY seq DESC LIMIT ?",
                    (check_id(run_id, "r"), last))
    return [time.strftime("%H:%M:%S ", time.localtime(r["t"])) + r["text"] for r in reversed(rows)]


def cancel_run(ws: Workspace, run_id) -> None:
    r = run(ws, run_id)
    if r["status"] not in ACTIVE:
        return
    ws.execute("UPDATE runs SET status='cancelled', finished=? WHERE id=? AND status IN ('queued','running')",
               (time.time(), r["id"]))
    ws.execute("INSERT INTO run_log (run_id, t, text) VALUES (?,?,?)", (r["id"], time.time(), "cancelled"))
    if r["pid"] and alive(r["pid"], r["pid_start"]):
        _terminate(r["pid"], r["pid_start"])


def _terminate(pid: int, pid_start, grace: float = 5.0) -> None:
    """SIGTERM to the run's process group (the worker and its Kkma workers),
    SIGKILL after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        end = time.time() + grace
        while time.time() < end:
            if not alive(pid, pid_start):
                return
            time.sleep(0.05)


def resume_run(ws: Workspace, run_id) -> None:
    """Start an interrupted or cancelled run again; it continues from its
    checkpoint when it has one (else from the start)."""
    r = run(ws, run_id)
    if r["status"] not in ("interrupted", "cancelled", "failed"):
        raise TaggerError(f"run {r['id']} is {r['status']}: only a stopped run can be resumed")
    ws.execute("UPDATE runs SET status='queued', pid=NULL, finished=NULL, error=NULL, created=created "
               "WHERE id=?", (r["id"],))
    _spawn(ws, r["id"])


def delete_run(ws: Workspace, run_id) -> None:
    """Forget a run (its model, if any, stays); an active run is cancelled first."""
    import shutil
    r = run(ws, run_id)
    cancel_run(ws, r["id"])
    with ws.db() as c:
        for table, col in (("run_epochs", "run_id"), ("run_log", "run_id"), ("runs", "id")):
            c.execute(f"DELETE FROM {table} WHERE {col}=?", (r["id"],))
    shutil.rmtree(ws.root / "runs" / r["id"], ignore_errors=True)


def wait(ws: Workspace, run_id, timeout: float = 120.0, poll: float = 0.2) -> dict:
    """Block until the run stops (for scripts and tests)."""
    end = time.time() + timeout
    while time.time() < end:
        r = run(ws, run_id)
        if r["status"] not in ACTIVE:
            return r
        time.sleep(poll)
    raise TaggerError(f"run {run_id} still {r['status']} after {timeout:.0f}s")


def main(argv=None) -> int:
    from tagger.runs.worker import execute, install_cancel_handler
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) != 1:
        sys.stderr.write("usage: python -m tagger.runs RUN_ID\n")
        return 2
    install_cancel_handler()
    return execute(Workspace(), argv[0])

