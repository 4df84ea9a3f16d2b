"""Models in the workspace: registering a trained model, importing a model
directory or zip made elsewhere (a GPU machine, the CLI), downloading one as a
zip, loading by id (cached), deleting. Models are named by id, never by path.

Three kinds live side by side, told apart by ``kind`` in their model.json
(and in the catalogue summary): ``tagger`` (TaggerModel), ``lm`` (a language
model, ``tagger.lm``) and ``classifier`` (ClassifierModel). Each row carries
its ``kind``; pass ``kinds=`` to list, open or load only some kinds."""
from __future__ import annotations

import io
import json
import shutil
import time
import zipfile
from pathlib import Path, PurePosixPath

from tagger.models import saving
from tagger.models.saving import COUNTS, KIND_NAMES, MODEL_JSON, WEIGHTS
from tagger.core import TaggerError, files
from tagger.workspace.memo import Memo
from tagger.workspace.store import Workspace, check_id, check_upload_size, clean_name, new_id

MAX_ZIP_MEMBER = 2 << 30
KINDS = ("tagger", "lm", "classifier")
DATA_FILES = (WEIGHTS, COUNTS)
_LOADED = Memo("loaded models", size=6)


def summary_of(meta: dict) -> dict:
    """What the catalogue keeps about a model (its model.json has the rest)."""
    dev = meta.get("dev_scores") or {}
    tags = meta.get("tags") or []
    kind = meta.get("kind", "tagger")
    out = {"kind": kind, "best_epoch": meta.get("best_epoch"), "epochs": len(meta.get("history") or []),
           "train_config": meta.get("train_config"), "train_data": meta.get("train_data"),
           "dev_data": meta.get("dev_data"), "device": meta.get("device"),
           "torch": (meta.get("weights") or {}).get("torch")}
    if kind == "lm":
        lm_dev = meta.get("dev") or {}
        out.update(lm_kind=meta.get("lm_kind"), lm_config=meta.get("lm_config"),
                   dev_perplexity=lm_dev.get("perplexity"), dev_bits_per_char=lm_dev.get("bits_per_char"))
    elif kind == "classifier":
        out.update(labels=meta.get("labels"), classifier_config=meta.get("classifier_config"),
                   dev_accuracy=dev.get("accuracy"), dev_macro_f1=dev.get("macro_f1"))
    else:
        out.update(types=sorted({t[2:] for t in tags if t[:2] in ("B-", "I-")}), dev_f1=dev.get("entity_f1"),
                   granularity=meta.get("granularity"), tagger_config=meta.get("tagger_config"))
    return out


def read_any(d) -> dict:
    """The checked model.json of a model directory of any kind."""
    return saving.read_any(Path(d))


def load_dir(d, kind: str, device: str = "cpu"):
    """A model directory loaded as its kind's class (the registry of kinds)."""
    return saving.load_any(d, device=device, kind=kind)


def kind_of(model) -> str:
    return model.KIND


def _files(d: Path) -> list[str]:
    """The model's data file(s), then model.json (copied last)."""
    return [f for f in DATA_FILES if (Path(d) / f).is_file()] + [MODEL_JSON]


def _insert(ws: Workspace, mid: str, name: str, source: str, run_id, meta: dict) -> dict:
    tok = (meta.get("tokenizer") or {}).get("name") if isinstance(meta.get("tokenizer"), dict) \
        else meta.get("tokenizer")
    ws.execute("INSERT INTO models VALUES (?,?,?,?,?,?,?)",
               (mid, clean_name(name, "model"), time.time(), source, run_id, tok,
                json.dumps(summary_of(meta), ensure_ascii=False)))
    return model_row(ws, mid)


def register(ws: Workspace, model, name: str, run_id=None) -> dict:
    """Save a freshly trained model (any kind) under ``models/<id>`` and catalogue it."""
    mid = new_id("m")
    tmp = ws.tmp_dir() / f"{mid}.saving"
    model.save(tmp)
    tmp.rename(ws.root / "models" / mid)
    return _insert(ws, mid, name, "run", run_id, read_any(ws.root / "models" / mid))


def content_id(directory) -> str:
    """A model id derived from the SHA-256 of the model's data file (weights.pt,
    or an n-gram LM's counts.json): the same weights get the same id anywhere."""
    d = Path(directory)
    data = next((d / f for f in DATA_FILES if (d / f).is_file()), None)
    if data is None:
        raise TaggerError(f"not a model folder: no {WEIGHTS} or {COUNTS}")
    return "m-" + files.sha256_file(data)[:10]


def _claim_id(ws: Workspace, src: Path, stable_id: bool) -> str:
    if not stable_id:
        return new_id("m")
    mid = content_id(src)
    if ws.one("SELECT id FROM models WHERE id=?", (mid,)) or (ws.root / "models" / mid).exists():
        raise TaggerError(f"the same model (same weights) is already in this workspace as {mid}")
    return mid


def import_dir(ws: Workspace, directory, name=None, *, stable_id: bool = False) -> dict:
    """Copy a CLI-made model directory (tagger, LM or classifier) into the
    workspace after checking it loads (checksum, plain tensors only) on this
    machine's CPU. Its id is random, or with ``stable_id`` derived from its
    weights (:func:`content_id`: a demo server's share links survive a rebuild)."""
    src = Path(directory)
    meta = read_any(src)
    try:
        load_dir(src, meta.get("kind", "tagger"), device="cpu")
    except (KeyError, TypeError, ValueError, AttributeError) as err:  # an incomplete model.json
        raise TaggerError(f"not a usable model: {MODEL_JSON} lacks or mangles {err}") from None
    mid = _claim_id(ws, src, stable_id)
    tmp = ws.tmp_dir() / f"{mid}.importing"
    tmp.mkdir(parents=True)
    for fname in _files(src):  # model.json last
        shutil.copyfile(src / fname, tmp / fname)
    tmp.rename(ws.root / "models" / mid)
    return _insert(ws, mid, name or src.name, "import", None, meta)


def _zip_members(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """model.json and its data file (weights.pt, or an n-gram LM's
    counts.json) from one folder of the zip (or its top)."""
    found: dict[str, dict] = {}
    for info in zf.infolist():
        p = PurePosixPath(info.filename)
        if info.is_dir() or p.name not in (MODEL_JSON, *DATA_FILES) or "__MACOSX" in p.parts:
            continue
        found.setdefault(str(p.parent), {})[p.name] = info
    full = [m for m in found.values() if MODEL_JSON in m and any(f in m for f in DATA_FILES)]
    if len(full) != 1:
        raise TaggerError(f"the zip must hold exactly one model folder with {MODEL_JSON} and {WEIGHTS} "
                          f"(or {COUNTS} for an n-gram LM) (found {len(full)})")
    return full[0]


def import_zip(ws: Workspace, data: bytes, name: str = "imported model", *, stable_id: bool = False) -> dict:
    """Import a zipped model directory; only its two files are read (no
    paths from the zip are ever used to write). ``stable_id``: see :func:`import_dir`."""
    check_upload_size(name, len(data))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise TaggerError("not a zip file") from None
    members = _zip_members(zf)
    tmp = ws.tmp_dir() / new_id("m")
    tmp.mkdir(parents=True)
    try:
        for fname, info in members.items():
            if info.file_size > MAX_ZIP_MEMBER:
                raise TaggerError(f"{info.filename}: too large")
            with zf.open(info) as src, open(tmp / fname, "wb") as out:
                shutil.copyfileobj(src, out)
        return import_dir(ws, tmp, name=clean_name(name, "model").removesuffix(".zip"), stable_id=stable_id)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def export_zip(ws: Workspace, model_id) -> tuple[bytes, str]:
    """``(zip bytes, file name)``: the folder ``<id>/`` with model.json and weights.pt."""
    row = model_row(ws, model_id)
    d = ws.root / "models" / row["id"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for fname in _files(d):
            zf.write(d / fname, f"{row['id']}/{fname}")
    return buf.getvalue(), f"{row['id']}.zip"


def _with_kind(row: dict) -> dict:
    row["kind"] = (row.get("summary") or {}).get("kind", "tagger")
    return row


def models(ws: Workspace, kinds=None) -> list[dict]:
    """Catalogue rows, newest first; only those of ``kinds`` when given."""
    rows = [_with_kind(r) for r in ws.query("SELECT * FROM models ORDER BY created DESC")]
    return [r for r in rows if kinds is None or r["kind"] in kinds]


def model_row(ws: Workspace, model_id, kinds=None) -> dict:
    mid = check_id(model_id, "m")
    row = ws.one("SELECT * FROM models WHERE id=?", (mid,))
    if row is None or not (ws.root / "models" / mid / MODEL_JSON).is_file():
        raise TaggerError(f"model {mid} is not in this workspace (it may have been deleted)")
    row = _with_kind(row)
    if kinds is not None and row["kind"] not in kinds:
        wanted = " or ".join(KIND_NAMES[k] for k in kinds)
        raise TaggerError(f"model {mid} is a {KIND_NAMES[row['kind']]}, not a {wanted}")
    return row


def model_dir(ws: Workspace, model_id, kinds=None) -> Path:
    return ws.root / "models" / model_row(ws, model_id, kinds)["id"]


def load(ws: Workspace, model_id, kinds=("tagger",)):
    """The model on the CPU, loaded once per process (a GPU-trained model
    too); a tagger unless ``kinds`` allows others (``kinds=None``: any)."""
    row = model_row(ws, model_id, kinds)
    d = ws.root / "models" / row["id"]
    key = (str(d), (d / MODEL_JSON).stat().st_mtime_ns)
    return _LOADED.get(key, lambda: load_dir(d, row["kind"], device="cpu"))


def model_json(ws: Workspace, model_id) -> dict:
    return read_any(model_dir(ws, model_id))


def delete(ws: Workspace, model_id) -> None:
    mid = model_row(ws, model_id)["id"]
    ws.execute("DELETE FROM models WHERE id=?", (mid,))
    shutil.rmtree(ws.root / "models" / mid, ignore_errors=True)
    shutil.rmtree(ws.root / "predictions" / mid, ignore_errors=True)


def device_summary() -> str:
    """``CUDA: <GPU name>`` when a GPU is usable, else ``CPU (n cores)``."""
    import os
    import torch
    if torch.cuda.is_available():
        return f"CUDA: {torch.cuda.get_device_name(0)}"
    return f"CPU ({os.cpu_count()} cores)"
