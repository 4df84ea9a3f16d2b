"""Saving and loading LMs: ``model.json`` (kind ``lm``, the LM kind, configs,
vocabulary, tokenizer, history, held-out scores, the data file's SHA-256)
plus ``counts.json`` (n-gram: the top-order counts) or ``weights.pt``
(window, RNN: a state dict of tensors only, read with ``weights_only=True``).
Each file is written through a temp file and a rename, ``model.json`` last."""
from __future__ import annotations

import json
from pathlib import Path

from tagger.models.saving import MODEL_JSON, WEIGHTS, _sha256, atomic_torch_save, atomic_write_text, config_from_json, read_description, resolve_device, safe_torch_load
from tagger.core import TaggerError
from tagger.models.vocab import Vocab
from tagger.lm.ngram import NgramConfig, NgramLM
from tagger.lm.rnn import RNNLM, RNNLMConfig, RNNLMNet
from tagger.lm.window import WindowConfig, WindowLM, WindowNet

FORMAT_VERSION = 1
COUNTS = "counts.json"
_CONFIGS = {"ngram": NgramConfig, "window": WindowConfig, "rnn": RNNLMConfig}


def save_lm(lm, directory) -> Path:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    if lm.kind == "ngram":
        data = d / COUNTS
        atomic_write_text(data, json.dumps({"order": lm.cfg.order, "counts": lm.counts}, separators=(",", ":")))
    else:
        data = d / WEIGHTS
        atomic_torch_save({k: v.detach().cpu().contiguous() for k, v in lm.module.state_dict().items()}, data)
    desc = {"format_version": FORMAT_VERSION, "kind": "lm", "lm_kind": lm.kind,
            "tokenizer": {"name": lm.tokenizer, "version": lm.tokenizer_version},
            "vocab": lm.vocab.itos, "data": {"file": data.name, "sha256": _sha256(data)},
            **{k: v for k, v in lm.meta.items() if k not in ("vocab", "tokenizer", "data")}}
    atomic_write_text(d / MODEL_JSON, json.dumps(desc, ensure_ascii=False, indent=1))
    return d


def read_lm_json(d: Path) -> dict:
    meta = read_description(d, "lm")
    if meta.get("lm_kind") not in _CONFIGS or not isinstance(meta.get("vocab"), list) \
            or not isinstance(meta.get("data"), dict) or "sha256" not in meta["data"]:
        raise TaggerError(f"{Path(d) / MODEL_JSON}: incomplete language model description")
    return meta


def load_lm(directory, device: str = "cpu"):
    d = Path(directory)
    meta = read_lm_json(d)
    kind = meta["lm_kind"]
    cfg = config_from_json(_CONFIGS[kind], meta.get("lm_config", {}), d / MODEL_JSON)
    try:
        vocab = Vocab(meta["vocab"])
    except ValueError as e:
        raise TaggerError(f"{d / MODEL_JSON}: bad vocabulary: {e}")
    tok = meta["tokenizer"]
    keep = {k: v for k, v in meta.items() if k not in ("vocab", "tokenizer", "data", "kind", "format_version")}
    if kind == "ngram":
        return NgramLM(cfg, _read_counts(d, meta), vocab, tok["name"], tok["version"], keep)
    state = safe_torch_load(d / WEIGHTS, device, expect_sha=meta["data"]["sha256"])
    net = RNNLMNet(cfg, len(vocab)) if kind == "rnn" else WindowNet(cfg, len(vocab))
    try:
        net.load_state_dict(state)
    except RuntimeError as e:
        raise TaggerError(f"{d / WEIGHTS}: weights do not fit the model in {MODEL_JSON}: {str(e)[:200]}")
    net.to(resolve_device(device)).eval()
    cls = RNNLM if kind == "rnn" else WindowLM
    return cls(net, vocab, tok["name"], tok["version"], keep)


def _read_counts(d: Path, meta: dict) -> list:
    path = d / COUNTS
    if not path.is_file():
        raise TaggerError(f"{path}: missing")
    if _sha256(path) != meta["data"]["sha256"]:
        raise TaggerError(f"{path}: does not match the checksum in {MODEL_JSON} (an interrupted save?)")
    try:
        counts = json.loads(path.read_text(encoding="utf-8"))["counts"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise TaggerError(f"{path}: unreadable n-gram counts: {e}")
    n = int(meta["lm_config"]["order"])
    if not isinstance(counts, list) or any(not isinstance(r, list) or len(r) != n + 1 for r in counts[:1000]):
        raise TaggerError(f"{path}: n-gram counts do not fit order {n}")
    return counts


__all__ = ["save_lm", "load_lm", "read_lm_json"]
