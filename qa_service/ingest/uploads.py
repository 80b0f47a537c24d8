"""Checks on an uploaded file before anything is stored: a safe name, a supported type, plausible content."""

from __future__ import annotations

import re

from qa_service.errors import InvalidInputError, UnsupportedDocumentError
from qa_service.ingest.loaders import loader_for

MAX_FILENAME_CHARS = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_source_name(filename: str | None) -> str:
    """The file's own name, without any directory part (``../../etc/passwd.txt`` -> ``passwd.txt``).

    Names with control characters (NUL included) or over 255 characters are refused, not repaired:
    a name the client did not send would be a surprise later."""
    if not filename or not filename.strip():
        raise InvalidInputError("every uploaded file needs a filename", code="missing_filename")
    if _CONTROL.search(filename):
        raise InvalidInputError("the filename contains control characters (e.g. NUL)", code="invalid_filename")
    if len(filename) > MAX_FILENAME_CHARS:
        raise InvalidInputError(
            f"the filename has {len(filename)} characters; the limit is {MAX_FILENAME_CHARS}",
            code="filename_too_long",
        )
    name = re.split(r"[\\/]", filename)[-1].strip()
    if name in ("", ".", "..") or name.startswith("."):
        raise InvalidInputError(f"{filename[:80]!r} is not a usable file name", code="invalid_filename")
    return name


def check_upload(data: bytes, source: str) -> None:
    """Cheap checks that fail at once with a clear reason; full parsing happens in the background.
    Text formats refuse empty and binary data (a zip named .txt, an executable); binary formats check
    their signature."""
    if not data.strip():
        raise UnsupportedDocumentError(f"{source}: the file is empty", code="empty_document")
    loader_for(source).sniff(data, source)
