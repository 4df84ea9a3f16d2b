"""Models in the workspace: registering a trained model, importing a model
directory or zip made elsewhere (a GPU machine, the CLI), downloading one as a
zip, loading by id (cached), deleting. Models are named by id, never by path."""
from __future__ import annotations

import io
import json
import shutil
import time
import zipfile
from pathlib import Path, PurePosixPath

from .trained import MODEL_JSON, WEIGHTS, TaggerModel, read_model_json
from .types import TaggerError
from .workspace import Workspace, check_id, check_upload_size, clean_name, new_id

MAX_ZIP_MEMBER = 2 << 30
_LOADED: dict = {}


def summary_of(meta: dict) -> dict:
    """What the catalogue keeps about a model (its model.json has the rest)."""
    dev = meta.get("dev_scores") or {}
    tags = meta.get("tags") or []
    return {"types": sorted({t[2:] for t in tags if t[:2] in ("B-", "I-")}),
            "dev_f1": dev.get("entity_f1"), "best_epoch": meta.get("best_epoch"),
            "epochs": len(meta.get("history") or []), "granularity": meta.get("granularity"),
            "tagger_config": meta.get("tagger_config"), "train_config": meta.get("train_config"),
            "train_data": meta.get("train_data"), "dev_data": meta.get("dev_data"),
            "device": meta.get("device"), "torch": (meta.get("weights") or {}).get("torch")}


def _insert(ws: Workspace, mid: str, name: str, source: str, run_id, meta: dict) -> dict:
    tok = (meta.get("tokenizer") or {}).get("name") if isinstance(meta.get("tokenizer"), dict) \
        else meta.get("tokenizer")
    ws.execute("INSERT INTO models VALUES (?,?,?,?,?,?,?)",
               (mid, clean_name(name, "model"), time.time(), source, run_id, tok,
                json.dumps(summary_of(meta), ensure_ascii=False)))
    return model_row(ws, mid)


def register(ws: Workspace, model: TaggerModel, name: str, run_id=None) -> dict:
    """Save a freshly trained model under ``models/<id>`` and catalogue it."""
    mid = new_id("m")
    tmp = ws.tmp_dir() / f"{mid}.saving"
    model.save(tmp)
    tmp.rename(ws.root / "models" / mid)
    return _insert(ws, mid, name, "run", run_id, read_model_json(ws.root / "models" / mid))


def import_dir(ws: Workspace, directory, name=None) -> dict:
    """Copy a CLI-made model directory into the workspace after checking it
    loads (checksum, plain tensors only) on this machine's CPU."""
    src = Path(directory)
    try:
        TaggerModel.load(src, device="cpu")
    except (KeyError, TypeError, ValueError, AttributeError) as err:  # an incomplete model.json
        raise TaggerError(f"not a usable model: {MODEL_JSON} lacks or mangles {err}") from None
    meta = read_model_json(src)
    mid = new_id("m")
    tmp = ws.tmp_dir() / f"{mid}.importing"
    tmp.mkdir(parents=True)
    for fname in (WEIGHTS, MODEL_JSON):  # model.json last
        shutil.copyfile(src / fname, tmp / fname)
    tmp.rename(ws.root / "models" / mid)
    return _insert(ws, mid, name or src.name, "import", None, meta)


def _zip_members(zf: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """model.json and weights.pt from one folder of the zip (or its top)."""
    found: dict[str, dict] = {}
    for info in zf.infolist():
        p = PurePosixPath(info.filename)
        if info.is_dir() or p.name not in (MODEL_JSON, WEIGHTS) or "__MACOSX" in p.parts:
            continue
        found.setdefault(str(p.parent), {})[p.name] = info
    full = [m for m in found.values() if len(m) == 2]
    if len(full) != 1:
        raise TaggerError(f"the zip must hold exactly one model folder with {MODEL_JSON} and {WEIGHTS} "
                          f"(found {len(full)})")
    return full[0]


def import_zip(ws: Workspace, data: bytes, name: str = "imported model") -> dict:
    """Import a zipped model directory; only its two files are read (no
    paths from the zip are ever used to write)."""
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
        return import_dir(ws, tmp, name=clean_name(name, "model").removesuffix(".zip"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def export_zip(ws: Workspace, model_id) -> tuple[bytes, str]:
    """``(zip bytes, file name)``: the folder ``<id>/`` with model.json and weights.pt."""
    row = model_row(ws, model_id)
    d = ws.root / "models" / row["id"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for fname in (MODEL_JSON, WEIGHTS):
            zf.write(d / fname, f"{row['id']}/{fname}")
    return buf.getvalue(), f"{row['id']}.zip"


def models(ws: Workspace) -> list[dict]:
    return ws.query("SELECT * FROM models ORDER BY created DESC")


def model_row(ws: Workspace, model_id) -> dict:
    mid = check_id(model_id, "m")
    row = ws.one("SELECT * FROM models WHERE id=?", (mid,))
    if row is None or not (ws.root / "models" / mid / MODEL_JSON).is_file():
        raise TaggerError(f"model {mid} is not in this workspace (it may have been deleted)")
    return row


def model_dir(ws: Workspace, model_id) -> Path:
    return ws.root / "models" / model_row(ws, model_id)["id"]


def load(ws: Workspace, model_id) -> TaggerModel:
    """The model on the CPU, loaded once per process (a GPU-trained model too)."""
    d = model_dir(ws, model_id)
    key = (str(d), (d / MODEL_JSON).stat().st_mtime_ns)
    model = _LOADED.get(key)
    if model is None:
        if len(_LOADED) >= 4:
            _LOADED.clear()
        model = _LOADED[key] = TaggerModel.load(d, device="cpu")
    return model


def model_json(ws: Workspace, model_id) -> dict:
    return read_model_json(model_dir(ws, model_id))


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
