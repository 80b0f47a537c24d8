"""Word documents (.docx, python-docx) and CSV tables: headings, paragraphs, list items, table rows."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import ClassVar

from qa_service.errors import UnsupportedDocumentError
from qa_service.ingest.blocks import RawBlock
from qa_service.ingest.formats.base import LoadedFile, Loader, LoadLimits, first_line_title
from qa_service.ingest.formats.text import decode_text

MAX_ZIP_MEMBERS = 10_000
MAX_COMPRESSION_RATIO = 200  # a zip bomb inflates far beyond what Office documents do
# A 2,000-page book has some 40,000 paragraphs; parsing costs about 70 us and 1 KB of tree per paragraph.
MAX_PARAGRAPHS = 100_000


class DocxLoader(Loader):
    suffixes = (".docx",)
    media_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    binary = True
    description: ClassVar[str] = (
        "headings (by paragraph style), paragraphs, list items, table rows in document order; macro-enabled "
        "or oversized archives refused"
    )

    def sniff(self, data: bytes, filename: str) -> None:
        if data[:4] != b"PK\x03\x04":
            raise UnsupportedDocumentError(f"{filename}: not a .docx file (not a zip archive)", code="broken_document")

    def load(self, data: bytes, filename: str, limits: LoadLimits) -> LoadedFile:
        self.sniff(data, filename)
        _check_archive(data, filename, limits)
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        try:
            document = docx.Document(io.BytesIO(data))
        except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors... for broken files
            message = f"{filename}: not a readable .docx ({exc})"
            raise UnsupportedDocumentError(message, code="broken_document") from None
        blocks: list[RawBlock] = []
        styles: dict[str | None, str] = {}  # python-docx looks a paragraph's style up by id in O(styles): once per id
        for item in document.iter_inner_content():
            if isinstance(item, Paragraph):
                text = " ".join(item.text.split())
                if not text:
                    continue
                style_id = item._p.style
                if style_id not in styles:
                    styles[style_id] = (item.style.name if item.style is not None else "") or ""
                style = styles[style_id]
                if style.startswith("Heading") or style == "Title":
                    digits = "".join(c for c in style if c.isdigit())
                    blocks.append(RawBlock("heading", text, int(digits) if digits else 1))
                elif "List" in style:
                    blocks.append(RawBlock("list_item", text))
                else:
                    blocks.append(RawBlock("paragraph", text))
            elif isinstance(item, Table):
                for row in item.rows:
                    cells = list(dict.fromkeys(" ".join(c.text.split()) for c in row.cells))  # merged cells repeat
                    if any(cells):
                        blocks.append(RawBlock("table_row", " ".join(c for c in cells if c)))
        if not blocks:
            raise UnsupportedDocumentError(f"{filename}: the document holds no text", code="empty_document")
        title = str(document.core_properties.title or "").strip()
        return LoadedFile([blocks], title or first_line_title(blocks), self.media_type)


def _check_archive(data: bytes, filename: str, limits: LoadLimits) -> None:
    """Refuse zip bombs, macro-enabled documents and archives that are not Word documents."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise UnsupportedDocumentError(f"{filename}: a broken zip archive", code="broken_document") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise UnsupportedDocumentError(f"{filename}: {len(members)} files in the archive", code="document_too_large")
    names = {m.filename for m in members}
    if "word/document.xml" not in names:
        raise UnsupportedDocumentError(f"{filename}: not a Word document", code="broken_document")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise UnsupportedDocumentError(f"{filename}: macro-enabled documents are refused", code="macros_refused")
    inflated = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    if inflated > limits.max_unpacked_bytes or inflated / packed > MAX_COMPRESSION_RATIO:
        raise UnsupportedDocumentError(
            f"{filename}: the archive inflates to {inflated} bytes (from {packed})", code="document_too_large"
        )
    paragraphs = _count_paragraphs(data)
    if paragraphs > MAX_PARAGRAPHS:
        raise UnsupportedDocumentError(
            f"{filename}: {paragraphs} paragraphs; the limit is {MAX_PARAGRAPHS}", code="too_many_paragraphs"
        )


def _count_paragraphs(data: bytes) -> int:
    """``<w:p>`` elements in the document's body, counted while it streams out of the archive (before any
    XML tree is built)."""
    count, tail = 0, b""
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("word/document.xml") as body:
        while chunk := body.read(1 << 20):
            window = tail + chunk
            count += window.count(b"<w:p>") + window.count(b"<w:p ") + window.count(b"<w:p/")
            tail = window[-4:]  # a tag (5 bytes) split across two reads is counted in the next window, never twice
    return count


class CsvLoader(Loader):
    suffixes = (".csv",)
    media_type = "text/csv"
    description: ClassVar[str] = 'one block per row, each value with its column header ("header: value; ...")'

    def load(self, data: bytes, filename: str, limits: LoadLimits) -> LoadedFile:
        text = decode_text(data, filename)
        try:
            dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        try:
            rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(cell.strip() for cell in row)]
        except csv.Error as exc:  # a field over the csv module's limit (131,072 characters), a stray NUL...
            raise UnsupportedDocumentError(f"{filename}: not readable as CSV ({exc})", code="broken_document") from None
        if not rows:
            raise UnsupportedDocumentError(f"{filename}: the file is empty", code="empty_document")
        header = [" ".join(cell.split()) for cell in rows[0]]
        blocks = [RawBlock("heading", " · ".join(h for h in header if h) or filename, 1)]
        for row in rows[1:]:
            pairs = [
                f"{header[i] if i < len(header) and header[i] else f'column {i + 1}'}: {' '.join(cell.split())}"
                for i, cell in enumerate(row)
                if cell.strip()
            ]
            blocks.append(RawBlock("table_row", "; ".join(pairs)))
        return LoadedFile([blocks], filename, self.media_type)
