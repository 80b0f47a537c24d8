"""Document structure as data: the blocks a loader finds, and their offsets in the cleaned text.

A loader returns pages (one for unpaged formats) of ``RawBlock``: a heading, a paragraph, a list item, a
definition term or its description, a table row, a code block. ``assemble`` joins them into the text the
service stores (blocks separated by a blank line) and records each block's span, so chunking never cuts a
block that fits, sentences never run across blocks, and every offset knows its heading path.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

BlockKind = Literal["heading", "paragraph", "list_item", "term", "description", "table_row", "code"]
KIND_CODES: dict[str, BlockKind] = {
    "h": "heading", "p": "paragraph", "l": "list_item", "t": "term", "d": "description", "r": "table_row",
    "c": "code",
}  # fmt: skip
_CODE_OF = {kind: code for code, kind in KIND_CODES.items()}
PATH_SEPARATOR = " › "
MAX_PATH_PART = 80  # a long heading or term is cut in the path (a signature with many parameters)


@dataclass(frozen=True, slots=True)
class RawBlock:
    """A block as a loader found it; ``text`` has no line breaks unless the structure has them (code)."""

    kind: BlockKind
    text: str
    level: int = 0  # heading level (1 = top); 0 for other kinds


@dataclass(frozen=True, slots=True)
class Block:
    """A block of the cleaned text: ``text[start:end]``."""

    kind: BlockKind
    start: int
    end: int
    level: int = 0

    def encode(self) -> list[object]:
        return [_CODE_OF[self.kind], self.start, self.end, self.level]

    @classmethod
    def decode(cls, row: Sequence[Any]) -> Block:
        code, start, end, level = row
        return cls(KIND_CODES[code], int(start), int(end), int(level))


def assemble(pages: list[list[RawBlock]]) -> tuple[str, tuple[Block, ...], tuple[int, ...]]:
    """(text, blocks, where each page starts in the text): blocks joined by blank lines."""
    parts: list[str] = []
    blocks: list[Block] = []
    page_starts: list[int] = []
    offset = 0
    for page in pages:
        page_starts.append(offset)
        for raw in page:
            text = raw.text.strip()
            if not text:
                continue
            if parts:
                parts.append("\n\n")
                offset += 2
            blocks.append(Block(raw.kind, offset, offset + len(text), raw.level))
            parts.append(text)
            offset += len(text)
    # A page that starts with a separator begins at its first block, not at the blank line before it.
    starts = [next((b.start for b in blocks if b.start >= s), s) for s in page_starts]
    return "".join(parts), tuple(blocks), tuple(starts)


def heading_paths(text: str, blocks: tuple[Block, ...]) -> list[tuple[str, ...]]:
    """The heading path of each block: the headings above it (a heading's own path ends with itself; a
    description, and code or list items after a term, end with their term)."""
    stack: list[tuple[int, str]] = []
    base: tuple[str, ...] = ()  # the headings on the stack
    term: str | None = None
    paths: list[tuple[str, ...]] = []
    for block in blocks:
        if block.kind == "heading":
            level = block.level or 1
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, _label(text[block.start : block.end])))
            base = tuple(h for _, h in stack)
            paths.append(base)
            term = None
            continue
        if block.kind == "term":
            term = _label(text[block.start : block.end])
            paths.append(base)
            continue
        if block.kind != "description":
            term = None if block.kind not in ("code", "table_row", "list_item") else term
        paths.append((*base, term) if term and block.kind in ("description", "code", "list_item") else base)
    return paths


def _label(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_PATH_PART else line[: MAX_PATH_PART - 1].rstrip() + "…"


class BlockIndex:
    """Look up the block (and heading path) holding an offset."""

    def __init__(self, text: str, blocks: tuple[Block, ...]) -> None:
        self.blocks = blocks
        self._starts = [b.start for b in blocks]
        self._paths = heading_paths(text, blocks)

    def at(self, offset: int) -> int | None:
        """Index of the block holding ``offset``, or None between blocks / without blocks."""
        i = bisect_right(self._starts, offset) - 1
        if i < 0 or offset >= self.blocks[i].end:
            return None
        return i

    def path_at(self, offset: int) -> tuple[str, ...]:
        """The heading path at ``offset`` (between blocks: that of the block before)."""
        i = bisect_right(self._starts, offset) - 1
        return self._paths[i] if i >= 0 else ()

    def heading_path(self, offset: int) -> str:
        return PATH_SEPARATOR.join(self.path_at(offset))
