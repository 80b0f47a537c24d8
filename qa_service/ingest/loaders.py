"""The table of formats: file suffix -> loader. Supported suffixes, upload checks, page handling and help
text are all derived from it; adding a format is one loader class and one row."""

from __future__ import annotations

from pathlib import PurePath

from qa_service.errors import UnsupportedDocumentError
from qa_service.ingest.formats.base import LoadedFile, Loader, LoadLimits
from qa_service.ingest.formats.html import HtmlLoader
from qa_service.ingest.formats.man import ManLoader, is_man_page_name
from qa_service.ingest.formats.office import CsvLoader, DocxLoader
from qa_service.ingest.formats.pdf import PdfLoader
from qa_service.ingest.formats.text import MarkdownLoader, TextLoader, decode_text

__all__ = [
    "FORMATS", "FORMATS_NAMED", "LOADERS", "SUPPORTED_SUFFIXES", "LoadLimits", "LoadedFile", "decode_text",
    "is_supported", "load_bytes",
    "loader_for",
]  # fmt: skip

LOADERS: tuple[Loader, ...] = (
    TextLoader(), MarkdownLoader(), HtmlLoader(), PdfLoader(), DocxLoader(), CsvLoader(), ManLoader()
)  # fmt: skip
FORMATS: dict[str, Loader] = {suffix: loader for loader in LOADERS for suffix in loader.suffixes}
SUPPORTED_SUFFIXES = tuple(FORMATS)
# How help text, the upload route and the page name what they take: ".txt .md .markdown ..., man pages (...)".
FORMATS_NAMED = ", ".join(loader.named() for loader in LOADERS)


def loader_for(filename: str) -> Loader:
    """The loader of a file's suffix; ``UnsupportedDocumentError`` naming the supported ones otherwise."""
    suffix = PurePath(filename).suffix.lower()
    loader = FORMATS.get(suffix)
    if loader is None:
        raise UnsupportedDocumentError(
            f"{filename}: unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}",
            code="unsupported_type",
        )
    return loader


def is_supported(filename: str) -> bool:
    """A file a folder's ingestion picks up: a supported suffix (and, for ``.gz``, a gzipped man page)."""
    suffix = PurePath(filename).suffix.lower()
    return suffix in FORMATS and (suffix != ".gz" or is_man_page_name(filename))


def load_bytes(data: bytes, filename: str, *, max_pages: int = 2000, max_chars: int = 5_000_000) -> LoadedFile:
    """Load a file's blocks; raise ``UnsupportedDocumentError`` with a reason a person can act on."""
    if not data[:4096].strip() and not data.strip():  # the head first: no copy of a large file just to look
        raise UnsupportedDocumentError(f"{filename}: the file is empty", code="empty_document")
    loader = loader_for(filename)
    try:
        return loader.load(data, filename, LoadLimits(max_pages=max_pages, max_chars=max_chars))
    except RecursionError:  # HTML or XML nested thousands deep: the parsers' tree walks recurse
        raise UnsupportedDocumentError(f"{filename}: nested too deeply to read", code="too_deeply_nested") from None
