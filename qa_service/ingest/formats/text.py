"""Plain text (unwrapped into paragraphs) and Markdown (parsed into blocks with markdown-it)."""

from __future__ import annotations

from typing import Any, ClassVar

from qa_service.errors import UnsupportedDocumentError
from qa_service.ingest.blocks import RawBlock
from qa_service.ingest.formats.base import LoadedFile, Loader, LoadLimits, first_line_title
from qa_service.ingest.formats.mantext import looks_like_man_output, man_text_blocks
from qa_service.ingest.frontmatter import split_front_matter
from qa_service.ingest.reflow import plain_text_blocks

# Bytes that never occur in real text files (NUL and most C0 controls; backspace does: man's overstrikes).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (8, 9, 10, 12, 13))


def decode_text(data: bytes, filename: str) -> str:
    """Decode UTF-8 (with or without BOM), else cp1252, else the charset-normalizer guess.

    Binary data is refused rather than decoded into mojibake.
    """
    if not data[:4096].strip() and not data.strip():  # the head first: no copy of a large file just to look
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


class TextLoader(Loader):
    suffixes = (".txt",)
    media_type = "text/plain"
    description: ClassVar[str] = (
        "paragraphs unwrapped from hard-wrapped lines, hyphenated line ends joined, numbered or capitalised "
        "section lines as headings, option lines with their indented description, column-aligned rows"
    )

    def load(self, data: bytes, filename: str, limits: LoadLimits) -> LoadedFile:
        text = decode_text(data, filename)
        if looks_like_man_output(text):  # `man x > x.txt`: its sections, options and NAME line (mantext.py)
            blocks, title = man_text_blocks(text)
            return LoadedFile([blocks], title or first_line_title(blocks), self.media_type)
        blocks = plain_text_blocks(text)
        return LoadedFile([blocks], first_line_title(blocks), self.media_type)


class MarkdownLoader(Loader):
    suffixes = (".md", ".markdown")
    media_type = "text/markdown"
    description: ClassVar[str] = (
        "headings, paragraphs, list items, tables (a row per block), code blocks; links keep their text, "
        "emphasis and code marks dropped"
    )

    def load(self, data: bytes, filename: str, limits: LoadLimits) -> LoadedFile:
        from markdown_it import MarkdownIt

        meta, text = split_front_matter(decode_text(data, filename))  # title, tags... are metadata, not text
        parser = MarkdownIt("commonmark").enable("table")
        # Only a link's text is kept, never its URL, so a javascript: link keeps its text like any other.
        parser.validateLink = lambda url: True  # type: ignore[method-assign]
        tokens = parser.parse(text)
        blocks = _markdown_blocks(tokens)
        title = str(meta.get("title") or "") or next((b.text for b in blocks if b.kind == "heading"), "")
        return LoadedFile([blocks], (title or first_line_title(blocks))[:200], self.media_type, meta)


def _markdown_blocks(tokens: list[Any]) -> list[RawBlock]:
    blocks: list[RawBlock] = []
    context: list[str] = []  # open container tokens: list items, table rows
    heading_level = 0
    row: list[str] = []
    for token in tokens:
        kind = token.type
        if kind == "heading_open":
            heading_level = int(token.tag[1:])
        elif kind == "heading_close":
            heading_level = 0
        elif kind in ("list_item_open", "tr_open", "blockquote_open"):
            context.append(kind)
            row = [] if kind == "tr_open" else row
        elif kind in ("list_item_close", "blockquote_close"):
            context.pop()
        elif kind == "tr_close":
            context.pop()
            if row:
                blocks.append(RawBlock("table_row", " ".join(cell for cell in row if cell)))
        elif kind == "inline":
            content = inline_text(token.children or [])
            if "tr_open" in context:
                row.append(content)
            elif heading_level:
                blocks.append(RawBlock("heading", content, heading_level))
            else:
                blocks.append(RawBlock("list_item" if "list_item_open" in context else "paragraph", content))
        elif kind in ("fence", "code_block"):
            blocks.append(RawBlock("code", token.content.rstrip("\n")))
        elif kind == "html_block":
            blocks.append(RawBlock("paragraph", token.content.strip()))
    return blocks


def inline_text(children: list[Any]) -> str:
    """The text a reader sees: link and image text kept, marks of emphasis and code dropped."""
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(inline_text(child.children or []) or child.content)
    return " ".join("".join(parts).split())
