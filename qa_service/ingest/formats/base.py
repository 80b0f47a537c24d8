"""The loader contract: one method, ``load``, plus capability flags the pipeline and upload checks read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from qa_service.domain import MetadataValue
from qa_service.ingest.blocks import RawBlock


@dataclass(frozen=True, slots=True)
class LoadLimits:
    """Bounds on the work a hostile file can cause."""

    max_pages: int = 2000
    max_chars: int = 5_000_000
    max_unpacked_bytes: int = 200_000_000  # zip-based formats (.docx): total size once inflated


@dataclass(frozen=True, slots=True)
class LoadedFile:
    """A file's blocks before cleaning: one list per page (one page for unpaged formats)."""

    pages: list[list[RawBlock]]
    title: str
    media_type: str
    metadata: dict[str, MetadataValue] = field(default_factory=dict)  # e.g. Markdown front matter


class Loader:
    """Reads one format. ``paged``: pages are real (page numbers on citations); ``binary``: not text, so
    uploads are checked by ``sniff`` instead of by decoding."""

    suffixes: ClassVar[tuple[str, ...]] = ()
    media_type: ClassVar[str] = "text/plain"
    paged: ClassVar[bool] = False
    binary: ClassVar[bool] = False
    description: ClassVar[str] = ""  # what is kept of the format (README, help text)
    label: ClassVar[str] = ""  # how help text and the page name its files; "" = its suffixes

    @classmethod
    def named(cls) -> str:
        return cls.label or " ".join(cls.suffixes)

    def load(self, data: bytes, filename: str, limits: LoadLimits) -> LoadedFile:
        raise NotImplementedError

    def sniff(self, data: bytes, filename: str) -> None:
        """Cheap check of an upload's first bytes; raises ``UnsupportedDocumentError``."""
        from qa_service.ingest.formats.text import decode_text

        decode_text(data[:65536], filename)


def first_line_title(blocks: list[RawBlock]) -> str:
    for block in blocks:
        line = block.text.strip().lstrip("#").strip()
        if line:
            return line.splitlines()[0][:200]
    return ""
