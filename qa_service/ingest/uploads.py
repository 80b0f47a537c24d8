"""Checks on an uploaded file before anything is stored: a safe name, a supported type, plausible content."""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from qa_service.errors import InvalidInputError, PayloadTooLargeError, UnsupportedDocumentError
from qa_service.ingest.loaders import loader_for

MAX_FILENAME_CHARS = 255
READ_CHUNK = 1 << 20  # an upload is copied to its spool file this many bytes at a time
SNIFF_BYTES = 65536  # the head that ``check_upload`` looks at
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_source_name(filename: str | None) -> str:
    """The file's own name, without any directory part (``../../etc/passwd.txt`` -> ``passwd.txt``).

    Names with control characters (NUL included) or over 255 characters are refused, not repaired:
    a name the client did not send would be a surprise later."""
    if not filename or not filename.strip():
        raise InvalidInputError("every uploaded file needs a filename", code="missing_filename")
    try:
        filename.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError("the filename is not valid Unicode", code="invalid_text") from None
    if _CONTROL.search(filename):
        raise InvalidInputError("the filename contains control characters (e.g. NUL)", code="invalid_filename")
    if len(filename) > MAX_FILENAME_CHARS:
        raise InvalidInputError(
            f"the filename has {len(filename)} characters; the limit is {MAX_FILENAME_CHARS}",
            code="filename_too_long",
        )
    # NFC: "café.txt" typed on macOS (NFD) and on Linux (NFC) is one name, compared and stored alike.
    name = unicodedata.normalize("NFC", re.split(r"[\\/]", filename)[-1].strip())
    if name in ("", ".", "..") or name.startswith("."):
        raise InvalidInputError(f"{filename[:80]!r} is not a usable file name", code="invalid_filename")
    return name


def check_upload(data: bytes, source: str) -> None:
    """Cheap checks that fail at once with a clear reason; full parsing happens in the background.
    Text formats refuse empty and binary data (a zip named .txt, an executable); binary formats check
    their signature."""
    if not data[:4096].strip() and not data.strip():
        raise UnsupportedDocumentError(f"{source}: the file is empty", code="empty_document")
    loader_for(source).sniff(data, source)


class AsyncReadable(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


@dataclass(frozen=True, slots=True)
class SpooledUpload:
    """An uploaded file copied to disk: its path, content id (as ``document_id_for``) and size."""

    source: str
    path: Path
    document_id: str
    size: int


async def spool_upload(upload: AsyncReadable, *, source: str, directory: Path, max_bytes: int) -> SpooledUpload:
    """Copy an upload to a new file under ``directory`` a chunk at a time, hashing it on the way, so memory
    does not grow with its size; over ``max_bytes`` it is refused (413) as soon as the limit is passed, and
    the head is checked (``check_upload``) before the rest is read."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / uuid.uuid4().hex
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with path.open("wb") as out:
            while chunk := await upload.read(READ_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLargeError(
                        f"{source} is over the upload limit of {max_bytes} bytes", code="file_too_large"
                    )
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                    if len(head) == SNIFF_BYTES:
                        check_upload(head, source)
                digest.update(chunk)
                out.write(chunk)
        if len(head) < SNIFF_BYTES:
            check_upload(head, source)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return SpooledUpload(source, path, digest.hexdigest()[:16], size)
