"""Turn a file's bytes into text sections (one per PDF page, one for other formats)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from qa_service.domain import MetadataValue
from qa_service.errors import UnsupportedDocumentError
from qa_service.ingest.frontmatter import split_front_matter

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")

# Bytes that never occur in real text files (NUL and most C0 controls).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))
_DROPPED_HTML_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg")
_HTML_BLOCK_TAGS = (
    "p", "div", "section", "article", "main", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "tr", "blockquote", "pre", "dd", "dt", "figcaption", "br",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LoadedFile:
    """Raw text of a file before cleaning."""

    sections: list[str]
    title: str
    media_type: str
    metadata: dict[str, MetadataValue] = field(default_factory=dict)  # Markdown front matter


def load_bytes(data: bytes, filename: str, *, max_pages: int = 2000, max_chars: int = 5_000_000) -> LoadedFile:
    """Dispatch on the file suffix; raise ``UnsupportedDocumentError`` with a reason a person can act on.

    ``max_pages`` and ``max_chars`` bound the work a hostile PDF (thousands of pages, compressed
    streams that inflate to gigabytes of text) can cause."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".pdf":
        return _load_pdf(data, filename, max_pages=max_pages, max_chars=max_chars)
    if suffix in (".html", ".htm"):
        return _load_html(decode_text(data, filename))
    if suffix in (".md", ".markdown"):
        meta, text = split_front_matter(decode_text(data, filename))
        title = str(meta.get("title") or "") or _first_line_title(text)
        return LoadedFile([_strip_markdown(text)], title, "text/markdown", meta)
    if suffix == ".txt":
        text = decode_text(data, filename)
        return LoadedFile([text], _first_line_title(text), "text/plain")
    raise UnsupportedDocumentError(
        f"{filename}: unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}",
        code="unsupported_type",
    )


def decode_text(data: bytes, filename: str) -> str:
    """Decode UTF-8 (with or without BOM), else cp1252, else the charset-normalizer guess.

    Binary data is refused rather than decoded into mojibake.
    """
    if not data.strip():
        raise UnsupportedDocumentError(f"{filename}: the file is empty", code="empty_document")
    sample = data[:65536]
    if b"\x00" in sample or sum(sample.count(b) for b in _CONTROL_BYTES) > len(sample) * 0.01:
        raise UnsupportedDocumentError(f"{filename}: looks like binary data, not text", code="binary_data")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnsupportedDocumentError(f"{filename}: cannot detect the text encoding", code="unknown_encoding")
    return str(best)


def _first_line_title(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:200]
    return ""


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_MD_EMPHASIS = re.compile(r"(\*\*|__|`)(.+?)\1")


def _strip_markdown(text: str) -> str:
    """Drop markup that would pollute quotes (links keep their text, headings lose their hashes)."""
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub("", text)
    return _MD_EMPHASIS.sub(r"\2", text)


def _load_html(markup: str) -> LoadedFile:
    from bs4 import BeautifulSoup
    from bs4.element import NavigableString

    soup = BeautifulSoup(markup, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if soup.head:
        soup.head.decompose()
    for tag in soup(_DROPPED_HTML_TAGS):
        tag.decompose()
    # Site furniture marked by role or class (Sphinx, WordPress...): navigation bars, sidebars, footers.
    for tag in soup.find_all(_is_furniture):
        tag.decompose()
    # Whitespace in HTML text is layout, except inside <pre>: collapse it so sentences are not cut by
    # the source's line wrapping, and keep code blocks as they are.
    for node in soup.find_all(string=True):
        # Exact type: Doctype and Comment subclass NavigableString and must stay out of the text.
        if type(node) is NavigableString and node.find_parent("pre") is None:
            node.replace_with(_SPACES.sub(" ", str(node)))
    for tag in soup.find_all(_HTML_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    lines = (line.rstrip() for line in soup.get_text().splitlines())
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(line if line.strip() else "" for line in lines)).strip()
    # Collapsed text nodes leave one leading space after a block break; code in <pre> keeps its indent.
    text = re.sub(r"(?m)^ (?=\S)", "", text)
    if not text:
        raise UnsupportedDocumentError("the HTML page holds no text", code="empty_document")
    return LoadedFile([text], title or _first_line_title(text), "text/html")


_SPACES = re.compile(r"\s+")
_FURNITURE_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary"}
_FURNITURE_CLASS = re.compile(
    r"(^|[-_ ])(nav|navbar|navigation|sidebar|sphinxsidebar|footer|breadcrumbs?|menu|"
    r"related|headerlink|skip-link|cookie-banner)($|[-_ ])",
    re.I,
)


def _is_furniture(tag: Any) -> bool:
    if tag.get("role") in _FURNITURE_ROLES:
        return True
    classes = tag.get("class") or []
    return any(_FURNITURE_CLASS.search(c) for c in classes)


def _load_pdf(data: bytes, filename: str, *, max_pages: int, max_chars: int) -> LoadedFile:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        count = len(reader.pages)
        if count > max_pages:
            raise UnsupportedDocumentError(
                f"{filename}: the PDF has {count} pages; the limit is {max_pages}", code="too_many_pages"
            )
        pages: list[str] = []
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            if sum(map(len, pages)) > max_chars:
                raise UnsupportedDocumentError(
                    f"{filename}: more than {max_chars} characters of text", code="document_too_large"
                )
        title = str(reader.metadata.title) if reader.metadata and reader.metadata.title else ""
    except UnsupportedDocumentError:
        raise
    except Exception as exc:  # pypdf raises many unrelated types on hostile files; all mean "unreadable"
        raise UnsupportedDocumentError(f"{filename}: not a readable PDF ({exc})", code="broken_pdf") from None
    if not any(page.strip() for page in pages):
        raise UnsupportedDocumentError(
            f"{filename}: the PDF has no text layer (scanned images need OCR first)", code="empty_document"
        )
    return LoadedFile(pages, title or _first_line_title(pages[0]), "application/pdf")
