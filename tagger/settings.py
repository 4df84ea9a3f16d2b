"""Every path, limit, default and environment variable of the workbench, in
one place. Nothing here imports the rest of ``tagger``; values that come from
the environment are read when asked for (tests and the app change them).

| variable | what it sets | default |
|---|---|---|
| ``TAGGER_WORKSPACE`` | the workspace folder (catalogue, datasets, runs, models, the tokenizer cache) | ``<repo>/data/workspace`` |
| ``TAGGER_MAX_UPLOAD_MB`` | the largest upload, in MB | 500 |
| ``TAGGER_READONLY`` | ``1`` serves only Home and Demo (a public demo server) | off |
| ``TAGGER_DEBUG`` | ``1`` makes the CLI print tracebacks of unexpected errors | off |
| ``TAGGER_USER`` | the reviewer name recorded on corrections and review statuses | the OS login name, else ``reviewer`` |
| ``TAGGER_RAY_ADDRESS`` | Kkma analyses run on this Ray cluster (``auto``, ``local`` or ``HOST:PORT``) | off: local worker processes |
| ``TAGGER_RAY_ACTORS`` | Kkma actors on the Ray cluster | the cluster's CPUs |
"""
from __future__ import annotations

import getpass
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = REPO_ROOT / "data" / "samples"

DEFAULT_TOKENIZER = "char"      # measured best (docs/benchmarks.md, "Tokenizers and heads")
DEFAULT_MAX_UPLOAD_MB = 500     # the same as server.maxUploadSize in .streamlit/config.toml
TRUE = ("1", "true", "yes", "on")


class SettingError(ValueError):
    """An environment variable holds a value that cannot be used."""


def workspace_dir() -> Path:
    """``$TAGGER_WORKSPACE`` if set, else ``<repo root>/data/workspace``."""
    env = os.environ.get("TAGGER_WORKSPACE")
    return Path(env) if env else REPO_ROOT / "data" / "workspace"


def tokenizer_cache_path() -> Path:
    """The SQLite tokenization cache: ``<workspace>/cache/tokens.sqlite``."""
    return workspace_dir() / "cache" / "tokens.sqlite"


def max_upload_mb() -> float:
    """The largest upload in MB: ``$TAGGER_MAX_UPLOAD_MB``, default 500."""
    raw = os.environ.get("TAGGER_MAX_UPLOAD_MB", "").strip()
    try:
        return float(raw) if raw else float(DEFAULT_MAX_UPLOAD_MB)
    except ValueError:
        raise SettingError(f"TAGGER_MAX_UPLOAD_MB={raw!r} is not a number of megabytes") from None


def readonly() -> bool:
    """``$TAGGER_READONLY``: the app serves only Home and Demo."""
    return os.environ.get("TAGGER_READONLY", "").strip().lower() in TRUE


def debug() -> bool:
    """``$TAGGER_DEBUG``: the CLI prints tracebacks of unexpected errors."""
    return bool(os.environ.get("TAGGER_DEBUG", "").strip())


def default_reviewer() -> str:
    """``$TAGGER_USER``, else the OS login name, else ``reviewer`` (as given:
    the workspace cleans names before it stores them)."""
    name = os.environ.get("TAGGER_USER", "").strip()
    if not name:
        try:
            name = getpass.getuser().strip()
        except (OSError, KeyError, ImportError):  # no login name (a container without a passwd entry)
            name = ""
    return name or "reviewer"


def ray_address() -> str | None:
    """``$TAGGER_RAY_ADDRESS``: the Ray cluster Kkma runs on (``auto``: the one
    ``ray start`` left on this machine; ``local``: start one here; else
    ``HOST:PORT`` of its head), ``None`` when unset: local worker processes."""
    return os.environ.get("TAGGER_RAY_ADDRESS", "").strip() or None


def ray_actors() -> int | None:
    """``$TAGGER_RAY_ACTORS``: how many Kkma actors (one JVM each) on the Ray
    cluster; ``None`` when unset: one per CPU of the cluster."""
    raw = os.environ.get("TAGGER_RAY_ACTORS", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise SettingError(f"TAGGER_RAY_ACTORS={raw!r} is not a positive whole number")
    return int(raw)


def child_env(**extra: str) -> dict:
    """The environment for a child process of the engine (a Kkma worker, a
    background run): this one, with the repository root on PYTHONPATH."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    return env
