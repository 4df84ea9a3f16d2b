"""A trained tagger: the module, its vocabularies and tokenizer, prediction on
raw text, and saving/loading as plain JSON plus weights.

A model directory holds ``model.json`` (format version, configs, vocabularies,
tag set, tokenizer and version, history, scores, the weights' SHA-256) and
``weights.pt`` (a state dict of tensors only). ``model.json`` is written last,
each file through a temp file and a rename, so a crash never leaves a model
that loads. Loading uses ``torch.load(weights_only=True)``: no code from the
files ever runs.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Optional, Sequence

import torch

from tagger.models.encoding import Vocabs, encode, length_batches
from tagger.models.tagger import Tagger, TaggerConfig
from tagger.core.units import token_tags_to_spans
from tagger.core import TaggerError

FORMAT_VERSION = 1
MODEL_JSON, WEIGHTS, CHECKPOINT = "model.json", "weights.pt", "checkpoint.pt"


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TaggerError(f"--device {name}: CUDA is not available on this machine (use --device cpu or auto)")
    if name.split(":")[0] not in ("cpu", "cuda"):
        raise TaggerError(f"unknown device {name!r} (choose from auto, cpu, cuda)")
    return torch.device(name)


@torch.no_grad()
def decode_encoded(module: Tagger, enc, batch_size: int) -> list[tuple[list[str], list[float]]]:
    """Tags and confidences per sentence, in the original order."""
    module.eval()
    out: list = [([], [])] * len(enc)
    device = next(module.parameters()).device
    nonempty = torch.nonzero(enc.lengths > 0).squeeze(1)
    lengths = enc.lengths[nonempty]
    for idx, max_len in length_batches(lengths, batch_size, shuffle=False):
        rows = nonempty[idx]
        best, conf = module.predict(enc.batch(rows.to(device), max_len))
        best, conf = best.cpu().tolist(), conf.cpu().tolist()
        for r, b, c in zip(rows.tolist(), best, conf):
            n = int(enc.lengths[r])
            out[r] = ([module.tags[i] for i in b[:n]], c[:n])
    return out


class TaggerModel:
    def __init__(self, module: Tagger, vocabs: Vocabs, tokenizer: str, tokenizer_version: str, meta: dict):
        self.module, self.vocabs = module, vocabs
        self.tokenizer, self.tokenizer_version, self.meta = tokenizer, tokenizer_version, meta

    @staticmethod
    def spans(tokens, tags, conf):
        return token_tags_to_spans(tokens, tags, conf)

    def predict(self, texts: Sequence[str], batch_size: int = 64, token_lists=None) -> list[dict]:
        """JSON-able predictions, one per text: ``text``, ``tokens`` (surface
        ``text``, ``start``, ``end``, ``tag``, ``confidence``, ``form``/``pos``
        where the tokenizer has them) and ``entities`` (``text``, ``label``,
        ``start``, ``end``, ``score``)."""
        if token_lists is None:
            from tagger.tokenizers import get_tokenizer
            token_lists = get_tokenizer(self.tokenizer).tokenize_many(list(texts), cache=True).tokens
        enc = encode(token_lists, self.vocabs)
        decoded = decode_encoded(self.module, enc, batch_size)
        return [self._result(t, toks, tags, conf) for t, toks, (tags, conf) in zip(texts, token_lists, decoded)]

    def _result(self, text, toks, tags, conf) -> dict:
        tokens = []
        for tok, tag, c in zip(toks, tags, conf):
            d = {"text": tok.text, "start": tok.start, "end": tok.end, "tag": tag, "confidence": round(c, 4)}
            if tok.form is not None:
                d["form"] = tok.form
            if tok.pos is not None:
                d["pos"] = tok.pos
            tokens.append(d)
        ents = [{"text": text[s.start:s.end], "label": s.label, "start": s.start, "end": s.end,
                 "score": round(score, 4)} for s, score in self.spans(toks, tags, conf)]
        return {"text": text, "tokens": tokens, "entities": ents}

    # ---- saving and loading -------------------------------------------------
    def to_json(self, weights_sha256: str) -> dict:
        return {"format_version": FORMAT_VERSION, "kind": "tagger",
                "tokenizer": {"name": self.tokenizer, "version": self.tokenizer_version},
                "tags": list(self.vocabs.tags), "vocabs": self.vocabs.to_json(),
                "weights": {"file": WEIGHTS, "sha256": weights_sha256,
                            "torch": torch.__version__}, **self.meta}

    def save(self, directory) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.module.state_dict().items()}
        (d / MODEL_JSON).unlink(missing_ok=True)  # overwriting: no model at all until both files are new
        atomic_torch_save(state, d / WEIGHTS)
        sha = _sha256(d / WEIGHTS)
        atomic_write_text(d / MODEL_JSON, json.dumps(self.to_json(sha), ensure_ascii=False, indent=1))
        return d

    @classmethod
    def load(cls, directory, device: str = "cpu") -> "TaggerModel":
        d = Path(directory)
        meta = read_model_json(d)
        state = safe_torch_load(d / WEIGHTS, device, expect_sha=meta["weights"]["sha256"])
        cfg = config_from_json(TaggerConfig, meta.get("tagger_config", {}), d / MODEL_JSON)
        vocabs = Vocabs.from_json(meta["vocabs"])
        module = Tagger(cfg, vocabs.sizes(), vocabs.tags)
        try:
            module.load_state_dict(state)
        except RuntimeError as e:
            raise TaggerError(f"{d / WEIGHTS}: weights do not fit the model in {MODEL_JSON}: {str(e)[:200]}")
        module.to(resolve_device(device)).eval()
        keep = {k: v for k, v in meta.items() if k not in ("vocabs", "tags", "tokenizer", "weights")}
        return cls(module, vocabs, meta["tokenizer"]["name"], meta["tokenizer"]["version"], keep)


KIND_NAMES = {"tagger": "tagger", "lm": "language model", "classifier": "classifier"}


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


def read_model_json(d: Path) -> dict:
    meta = read_description(d, "tagger")
    missing = [k for k in ("weights", "vocabs", "tokenizer", "tags") if not isinstance(meta.get(k), (dict, list))]
    if missing or not isinstance(meta["weights"], dict) or "sha256" not in meta["weights"]:
        raise TaggerError(f"{Path(d) / MODEL_JSON}: incomplete model description "
                          f"(missing {', '.join(missing) or 'weights.sha256'})")
    return meta


def config_from_json(cls, values: dict, where):
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise TaggerError(f"{where}: unknown {cls.__name__} settings: {', '.join(unknown)}")
    return cls(**values)


def safe_torch_load(path: Path, device="cpu", expect_sha: Optional[str] = None):
    """Tensors and plain containers only; anything else is refused."""
    if not path.is_file():
        raise TaggerError(f"{path}: missing")
    if expect_sha is not None and _sha256(path) != expect_sha:
        raise TaggerError(f"{path}: does not match the checksum in {MODEL_JSON} (an interrupted save?)")
    try:
        return torch.load(path, map_location=resolve_device(device), weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, AttributeError, ValueError, TypeError) as e:
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise TaggerError(f"{path}: refused: not a plain tensor file ({first})")


def load_checkpoint(directory) -> dict:
    return safe_torch_load(Path(directory) / CHECKPOINT, "cpu")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _atomic(path: Path, write) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    _atomic(path, lambda f: f.write(text.encode("utf-8")))


def atomic_torch_save(obj, path: Path) -> None:
    _atomic(path, lambda f: torch.save(obj, f))
