"""The JSON interchange formats (doccano JSONL, Label Studio JSON) behind one
read/write/detect interface for ``load``: offsets rules in ``interchange``."""
from __future__ import annotations

from tagger.corpus.doccano import looks_like_doccano, read_doccano, write_doccano
from tagger.corpus.interchange import JSON_FORMATS
from tagger.corpus.labelstudio import looks_like_labelstudio, read_labelstudio, write_labelstudio

__all__ = ["JSON_FORMATS", "detect_json", "read_json", "write_json"]


def detect_json(text: str, lines: list[str]) -> str | None:
    """``doccano`` (JSON object lines with a text), ``labelstudio`` (a JSON
    list of tasks with ``data``), or None."""
    if looks_like_doccano(lines):
        return "doccano"
    if looks_like_labelstudio(text):
        return "labelstudio"
    return None


def read_json(text: str, fmt: str, path: str, annotator=None):
    """``(sentences, problems, meta)``; ``annotator``: Label Studio's ``completed_by``."""
    if fmt == "doccano":
        return read_doccano(text, path)
    return read_labelstudio(text, path, annotator)


def write_json(sentences, fmt: str) -> list[str]:
    return write_doccano(sentences) if fmt == "doccano" else write_labelstudio(sentences)
