"""What keeps users' input in its place: ids that are never paths, display
names that are never paths, the upload size limit, and short causes of
failed writes. No I/O here."""
from __future__ import annotations

import re
import unicodedata

from tagger import settings
from tagger.core import TaggerError

ID_RE = re.compile(r"^[dmr]-[0-9a-f]{10}$")
_KIND = {"d": "dataset", "m": "model", "r": "run"}


def check_id(value, kind: str) -> str:
    """``value`` if it is a well-formed id of ``kind`` (d, m, r), else a clear
    TaggerError: a path, ``..`` or anything else is refused."""
    text = str(value or "").strip()
    what = _KIND[kind]
    if ID_RE.match(text) and text[0] == kind:
        return text
    if any(c in text for c in "/\\") or ".." in text:
        raise TaggerError(f"{what}s are named by their workspace id (like {kind}-0123456789), never by a path")
    raise TaggerError(f"{text[:40]!r} is not a {what} id (like {kind}-0123456789)")


def clean_name(name: str, default: str = "dataset") -> str:
    """A display name: the last path part, control characters removed, at most 120 chars;
    never empty, `.` or `..`."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()[:120]
    return default if not base.strip(". ") else base  # "", ".", ".." name no file


def storage_error(err: Exception) -> str:
    """The cause of a failed write in a few words (``No space left on device``)."""
    return getattr(err, "strerror", None) or str(err) or type(err).__name__


def max_upload_mb() -> float:
    """The largest upload in MB (``settings.max_upload_mb``); a bad value is a TaggerError."""
    try:
        return settings.max_upload_mb()
    except settings.SettingError as err:
        raise TaggerError(str(err)) from None


def check_upload_size(name: str, size: int) -> None:
    """A clear TaggerError when ``size`` bytes are over the upload limit."""
    limit = max_upload_mb()
    if size > limit * 1024 * 1024:
        raise TaggerError(f"{clean_name(name, 'upload')}: {size / 1024 / 1024:,.1f} MB is over the upload limit "
                          f"of {limit:g} MB (TAGGER_MAX_UPLOAD_MB); nothing was added")
