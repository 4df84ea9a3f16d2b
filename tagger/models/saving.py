"""Saving and loading every model kind: one :class:`SavedModel` base with one
``save`` and one ``load``, two hooks per kind, and a small registry of kinds.

A model directory holds ``model.json`` (format version, kind, tokenizer and
version, the data file with its SHA-256, plus the kind's own keys: configs,
vocabularies, tags or labels, history, scores) and one data file:
``weights.pt`` (a state dict of tensors only) or, for a kind whose data is
plain JSON (an n-gram LM's ``counts.json``), that file. The data file is
written first and ``model.json`` last, each through a temp file and a rename
(``tagger.core.files``); an overwrite removes the old ``model.json`` first,
so a crash never leaves a model that loads with mixed files. Loading checks
the checksum and uses ``torch.load(weights_only=True)``: no code from the
files ever runs.

A kind implements :meth:`SavedModel.describe` (its own ``model.json`` keys
and its data) and :meth:`SavedModel.rebuild` (the model from its checked
description and data); the registry maps ``model.json``'s ``kind`` to its
class, named lazily as ``"module:Class"`` for kinds in higher layers."""
from __future__ import annotations

import importlib
import json
import pickle
from dataclasses import fields
from pathlib import Path
from typing import Optional, Union

import torch

from tagger.core import TaggerError, files

from tagger.models.layout import CHECKPOINT, COUNTS, FORMAT_VERSION, MODEL_JSON, WEIGHTS  # noqa: F401
KIND_NAMES = {"tagger": "tagger", "lm": "language model", "classifier": "classifier"}
_REGISTRY: dict[str, Union[str, type]] = {
    "tagger": "tagger.models.tagger:TaggerModel",
    "lm": "tagger.lm.common:LanguageModel",
    "classifier": "tagger.models.classifier:ClassifierModel",
}


# ---- the registry ------------------------------------------------------------------
def register_kind(kind: str, cls: Union[str, type], name: Optional[str] = None) -> None:
    """Register a model kind: its class, or ``"module:Class"`` imported on first use."""
    _REGISTRY[kind] = cls
    KIND_NAMES.setdefault(kind, name or kind)


def resolve(ref: Union[str, type]) -> type:
    """A class from a class or a ``"module:Class"`` string."""
    if isinstance(ref, str):
        module, _, name = ref.partition(":")
        return getattr(importlib.import_module(module), name)
    return ref


def model_class(kind: str, where="") -> type:
    """The registered class of ``kind``; a clear error for an unknown kind."""
    if not isinstance(kind, str) or kind not in _REGISTRY:
        raise TaggerError(f"{where}: unknown model kind {kind!r} "
                          f"(expected {', '.join(list(_REGISTRY)[:-1])} or {list(_REGISTRY)[-1]})")
    cls = _REGISTRY[kind] = resolve(_REGISTRY[kind])
    return cls


def kind_in(d) -> str:
    """The ``kind`` named in a directory's model.json (``tagger`` when it cannot be read:
    reading it properly then says what is wrong)."""
    try:
        kind = json.loads((Path(d) / MODEL_JSON).read_text(encoding="utf-8")).get("kind")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return "tagger"
    return "tagger" if kind is None else kind


def read_any(d) -> dict:
    """The checked model.json of a model directory of any registered kind."""
    return model_class(kind_in(d), Path(d) / MODEL_JSON).read(d)


def load_any(d, device: str = "cpu", kind: Optional[str] = None):
    """A model directory loaded as its kind's class (``kind``: that kind or an error)."""
    return model_class(kind or kind_in(d), Path(d) / MODEL_JSON).load(d, device=device)


# ---- the base ----------------------------------------------------------------------
class SavedModel:
    """What every model kind shares on disk. Subclasses set ``KIND`` (the
    registry name, ``model.json``'s ``kind``), ``DATA_KEY`` (the model.json
    entry naming the data file), ``DATA_FILE``, ``NOT_META`` (model.json keys
    not kept in ``meta`` on load) and implement the two hooks."""
    KIND = ""
    DATA_KEY = "weights"
    DATA_FILE = WEIGHTS
    NOT_META: tuple = ("tokenizer", "weights")
    DATA_WHAT = "data file"    # a JSON data file, in messages
    RECORD_TORCH = False       # add the torch version to the data entry (taggers always did)
    tokenizer: str
    tokenizer_version: str
    meta: dict

    # ---- the two hooks ------------------------------------------------------------
    def describe(self) -> tuple[dict, object]:
        """(this kind's own model.json keys, its data): a module, whose state
        dict goes to ``weights.pt``, or a JSON-able value for a ``.json`` file."""
        raise NotImplementedError

    @classmethod
    def rebuild(cls, desc: dict, meta: dict, data, where: Path) -> "SavedModel":
        """The model from its checked description, the ``meta`` to keep and,
        for a JSON data file, its parsed content (``None`` for weights: the
        base loads them into ``model.module`` afterwards). ``where`` is the
        model.json path, for messages."""
        raise NotImplementedError

    # ---- optional ------------------------------------------------------------------
    @classmethod
    def check(cls, desc: dict, path: Path) -> None:
        """Refuse an incomplete description (beyond kind and version)."""

    @classmethod
    def kind_class(cls, desc: dict) -> type:
        """The class that rebuilds ``desc`` (a kind with sub-kinds picks one)."""
        return cls

    # ---- saving and loading ---------------------------------------------------------
    def save(self, directory) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        own, data = self.describe()
        (d / MODEL_JSON).unlink(missing_ok=True)  # overwriting: no model at all until both files are new
        path = d / self.DATA_FILE
        if isinstance(data, torch.nn.Module):
            atomic_torch_save({k: v.detach().cpu().contiguous() for k, v in data.state_dict().items()}, path)
        else:
            files.atomic_write_text(path, json.dumps(data, separators=(",", ":")))
        entry = {"file": path.name, "sha256": files.sha256_file(path)}
        if self.RECORD_TORCH:
            entry["torch"] = torch.__version__
        desc = {"format_version": FORMAT_VERSION, "kind": self.KIND,
                "tokenizer": {"name": self.tokenizer, "version": self.tokenizer_version}, **own,
                self.DATA_KEY: entry}
        desc.update({k: v for k, v in self.meta.items() if k not in desc})
        files.atomic_write_text(d / MODEL_JSON, json.dumps(desc, ensure_ascii=False, indent=1))
        return d

    @classmethod
    def read(cls, directory) -> dict:
        """The checked ``model.json`` of a directory of this kind."""
        desc = read_description(Path(directory), cls.KIND)
        cls.check(desc, Path(directory) / MODEL_JSON)
        return desc

    @classmethod
    def load(cls, directory, device: str = "cpu"):
        d = Path(directory)
        desc = cls.read(d)
        kind = cls.kind_class(desc)
        path, sha = d / kind.DATA_FILE, desc[kind.DATA_KEY]["sha256"]
        weights = path.suffix == ".pt"
        data = None if weights else _read_json_data(path, sha, kind.DATA_WHAT)
        state = safe_torch_load(path, device, expect_sha=sha) if weights else None
        meta = {k: v for k, v in desc.items() if k not in kind.NOT_META}
        model = kind.rebuild(desc, meta, data, d / MODEL_JSON)
        if weights:
            try:
                model.module.load_state_dict(state)
            except RuntimeError as e:
                raise TaggerError(f"{path}: weights do not fit the model in {MODEL_JSON}: {str(e)[:200]}")
            model.module.to(resolve_device(device)).eval()
        return model


# ---- helpers -----------------------------------------------------------------------
def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TaggerError(f"--device {name}: CUDA is not available on this machine (use --device cpu or auto)")
    if name.split(":")[0] not in ("cpu", "cuda"):
        raise TaggerError(f"unknown device {name!r} (choose from auto, cpu, cuda)")
    return torch.device(name)


def read_description(d: Path, kind: str) -> dict:
    """The checked ``model.json`` of a model directory of ``kind`` (tagger, lm,
    classifier): it exists, parses, is of that kind and of a version we read."""
    d, what = Path(d), KIND_NAMES.get(kind, kind)
    if not d.is_dir():
        raise TaggerError(f"{d}: not a model directory (no such directory)")
    path = d / MODEL_JSON
    if not path.is_file():
        raise TaggerError(f"{d}: not a model directory (no {MODEL_JSON}; an unfinished run leaves none)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TaggerError(f"{path}: unreadable model description: {e}")
    if not isinstance(meta, dict) or meta.get("kind") != kind:
        found = meta.get("kind") if isinstance(meta, dict) else None
        raise TaggerError(f"{path}: not a {what} model (kind {found!r})")
    if meta.get("format_version") != FORMAT_VERSION:
        raise TaggerError(f"{path}: {what} format version {meta.get('format_version')!r} "
                          f"is not supported (this engine reads {FORMAT_VERSION})")
    return meta


def config_from_json(cls, values: dict, where):
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise TaggerError(f"{where}: unknown {cls.__name__} settings: {', '.join(unknown)}")
    return cls(**values)


def _check_file(path: Path, expect_sha: Optional[str]) -> None:
    if not path.is_file():
        raise TaggerError(f"{path}: missing")
    if expect_sha is not None and files.sha256_file(path) != expect_sha:
        raise TaggerError(f"{path}: does not match the checksum in {MODEL_JSON} (an interrupted save?)")


def safe_torch_load(path: Path, device="cpu", expect_sha: Optional[str] = None):
    """Tensors and plain containers only; anything else is refused."""
    _check_file(path, expect_sha)
    try:
        return torch.load(path, map_location=resolve_device(device), weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, AttributeError, ValueError, TypeError) as e:
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise TaggerError(f"{path}: refused: not a plain tensor file ({first})")


def _read_json_data(path: Path, expect_sha: str, what: str):
    _check_file(path, expect_sha)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TaggerError(f"{path}: unreadable {what}: {e}")


def load_checkpoint(directory) -> dict:
    return safe_torch_load(Path(directory) / CHECKPOINT, "cpu")


def atomic_torch_save(obj, path: Path) -> None:
    """``torch.save`` through the one atomic writer (checkpoints, weights)."""
    files.atomic_write(path, lambda f: torch.save(obj, f))


def save_checkpoint(state: dict, directory) -> None:
    atomic_torch_save(state, Path(directory) / CHECKPOINT)


__all__ = ["SavedModel", "register_kind", "model_class", "read_any", "load_any", "read_description",
           "config_from_json", "safe_torch_load", "resolve_device", "load_checkpoint", "atomic_torch_save",
           "save_checkpoint", "MODEL_JSON", "WEIGHTS", "CHECKPOINT", "COUNTS", "FORMAT_VERSION", "KIND_NAMES"]
