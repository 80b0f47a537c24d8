"""HTML: the page's blocks in document order, without site furniture.

Furniture is found by structure, not by words: tags that are never content (scripts, nav, header,
footer), elements a site marks as navigation (ARIA roles, the class names of common generators), and
short elements that are mostly links (navigation bars, "Next/Previous/Up" panels, breadcrumbs, menus).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from qa_service.errors import UnsupportedDocumentError
from qa_service.ingest.blocks import BlockKind, RawBlock
from qa_service.ingest.formats.base import LoadedFile, Loader, LoadLimits, first_line_title
from qa_service.ingest.formats.text import decode_text

_DROPPED_TAGS = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg")
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_BLOCK_TAGS = frozenset(
    "p div section article main li ul ol dl dt dd table thead tbody tfoot tr td th blockquote pre figure "
    "figcaption body html center address hr br".split()
) | frozenset(_HEADINGS)
_FURNITURE_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary"}
_FURNITURE_CLASS = re.compile(
    r"(^|[-_ ])(nav|navbar|navigation|sidebar|sphinxsidebar|footer|breadcrumbs?|menu|"
    r"related|headerlink|skip-link|cookie-banner)($|[-_ ])",
    re.I,
)
_SPACES = re.compile(r"\s+")
LINK_DENSITY = 0.6  # a short element whose text is mostly link text is navigation
_SHORT = 300


class HtmlLoader(Loader):
    suffixes = (".html", ".htm")
    media_type = "text/html"
    description: ClassVar[str] = (
        "headings, paragraphs, list items, definition terms with their descriptions, table rows, code "
        "blocks; navigation, headers, footers and link-only panels dropped"
    )

    def load(self, data: bytes, filename: str, limits: LoadLimits) -> LoadedFile:
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(decode_text(data, filename), "lxml")
        title = soup.title.get_text(" ", strip=True) if soup.title else ""
        if soup.head:
            soup.head.decompose()
        for tag in soup(_DROPPED_TAGS):
            tag.decompose()
        for tag in soup.find_all(_is_marked_furniture):
            tag.decompose()
        _drop_link_panels(soup)
        blocks: list[RawBlock] = []
        _walk(soup, "paragraph", blocks, [])
        if not blocks:
            raise UnsupportedDocumentError("the HTML page holds no text", code="empty_document")
        return LoadedFile([blocks], title or first_line_title(blocks), self.media_type)


def _is_marked_furniture(tag: Any) -> bool:
    if tag.get("role") in _FURNITURE_ROLES:
        return True
    return any(_FURNITURE_CLASS.search(c) for c in tag.get("class") or [])


_PANEL_TAGS = frozenset("p div table ul ol td tr li span blockquote".split())


def _drop_link_panels(soup: Any) -> None:
    """Remove short elements that are mostly links, in one bottom-up pass over the tree.

    Non-space characters inside links count against letters and digits outside them: "[ << ] [ >> ]
    [Top]" and "Next: Intro, Previous: Top, Up: Top" are links with a little punctuation and a label or two.
    """
    from bs4.element import NavigableString, Tag

    tags = list(soup.find_all(True))
    stats: dict[int, tuple[int, int, int]] = {}  # id -> (chars inside links, letters outside links, length)
    for tag in reversed(tags):  # children before their parents
        inside = outside = length = 0
        for child in tag.children:
            if type(child) is NavigableString:
                text = str(child)
                length += len(text.strip()) + 1
                inside += sum(not c.isspace() for c in text) if tag.name == "a" else 0
                outside += 0 if tag.name == "a" else sum(c.isalnum() for c in text)
            elif isinstance(child, Tag):
                child_inside, child_outside, child_length = stats[id(child)]
                length += child_length
                if tag.name == "a":
                    inside += child_inside + child_outside
                else:
                    inside, outside = inside + child_inside, outside + child_outside
        stats[id(tag)] = (inside, outside, length)
    panels = []
    for tag in tags:
        inside, outside, length = stats[id(tag)]
        if tag.name in _PANEL_TAGS and inside and length <= _SHORT and inside / (inside + outside) >= LINK_DENSITY:
            panels.append(tag)
    chosen = {id(tag) for tag in panels}
    # Only the outermost panels are removed (``Tag.decomposed`` is looked up as a child tag's name, slowly).
    for tag in panels:
        if not any(id(parent) in chosen for parent in tag.parents):
            tag.decompose()


def _kind_of(tag: Any, inherited: BlockKind) -> BlockKind:
    name = tag.name
    if name in _HEADINGS:
        return "heading"
    return {"li": "list_item", "dt": "term", "dd": "description", "pre": "code", "tr": "table_row"}.get(name, inherited)  # type: ignore[return-value]


def _walk(node: Any, kind: BlockKind, blocks: list[RawBlock], buffer: list[str], level: int = 0) -> None:
    """Append the blocks under ``node``; inline text gathers in ``buffer`` until a block boundary."""
    from bs4.element import NavigableString, Tag

    def flush() -> None:
        text = _SPACES.sub(" ", "".join(buffer)).strip()
        buffer.clear()
        if text:
            blocks.append(RawBlock(kind, text, level if kind == "heading" else 0))

    for child in node.children:
        if type(child) is NavigableString:  # exact type: comments and doctypes subclass it
            buffer.append(str(child))
        elif isinstance(child, Tag):
            if child.name == "pre":
                flush()
                code = child.get_text().strip("\n")
                if code.strip():
                    blocks.append(RawBlock("code", code))
            elif child.name == "tr":
                flush()
                cells = [_SPACES.sub(" ", c.get_text(" ")).strip() for c in child.find_all(["td", "th"])]
                row = " ".join(c for c in cells if c)
                if row:
                    blocks.append(RawBlock("table_row", row))
            elif child.name in _BLOCK_TAGS:
                flush()
                inner = _kind_of(child, kind if kind in ("description", "list_item") else "paragraph")
                _walk(child, inner, blocks, [], _HEADINGS.get(child.name, level))
            else:
                _walk(child, kind, blocks, buffer, level)
    if node.name in _BLOCK_TAGS or node.name == "[document]":
        flush()
