"""The one atomic file writer: a temp file beside the target, written,
flushed and fsynced, then renamed over it; on any failure the temp file is
removed and the target is left as it was. Never half a file. Imports nothing
else of ``tagger`` and no torch: ``torch.save`` comes in as a writer."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Optional, Union

Writer = Callable[[BinaryIO], object]


def atomic_write(path, data_or_writer: Union[bytes, Writer], mode: Optional[int] = None) -> None:
    """Write ``data_or_writer`` (bytes, or a callable given the open binary
    file) to ``path`` atomically; ``mode`` sets the new file's permissions
    (default: ``mkstemp``'s 0o600). Raises ``OSError`` as it comes."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            if callable(data_or_writer):
                data_or_writer(f)
            else:
                f.write(data_or_writer)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path, text: str) -> None:
    """UTF-8 text through :func:`atomic_write`."""
    atomic_write(path, text.encode("utf-8"))


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


__all__ = ["atomic_write", "atomic_write_text", "sha256_file"]
