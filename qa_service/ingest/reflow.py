"""Undo hard line wrapping: lines into paragraphs, words hyphenated at a line end joined again.

Plain text that is hard-wrapped (man pages, RFC-style text, e-mails) and PDF lines go through the same
rules: a paragraph is lines without a blank line between them; a line ends its paragraph's line when it
ends well short of the wrap width, and a line that starts a list item, an option or a table row starts
a new block. Table-like lines (columns separated by runs of spaces) stay one block each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from qa_service.ingest.blocks import RawBlock

BULLETS = "•◦‣▪·"  # marks that only ever open a list item (a line of prose never starts with one)
ITEM = re.compile(rf"^\s*(?:[-*{BULLETS}]\s+|\(?\d{{1,3}}[.)]\s+|\(?[a-z][.)]\s+(?=[A-Z]))")  # "• x", "2. x", "(a) X"
_ARG = r"(?:[ =][<\[]?[\w.-]+[>\]]?)?"
_OPTION = re.compile(r"^\s*--?[\w?][\w-]*" + _ARG + r"(?:,\s+--?[\w-]+" + _ARG + r")*\s*$")
_COLUMNS = re.compile(r"\S {2,}\S")
# A hyphenated word; it starts only where a word starts, so a long run of word characters costs linear time.
HYPHENATED = re.compile(r"(?<!\w)\w+(?:-\w+)+")
_LONGEST_WORD = 100  # a longer run of letters glued across lines is no word to rejoin at a hyphen
_SHORT_LINE = 0.75  # a line shorter than this share of the wrap width ends its line of text
# Words that cannot end an English sentence or heading: a short line ending in one of them ("The list is
# located at" / "<list@example.org> ...") is cut by the wrapping, not by the author.
_CANNOT_END = frozenset(
    "a an the at of to in on for with by from into onto via per than and or nor but as is are was were be "
    "been being has have had its their your our my his her whose which that".split()
)


def wrap_width(lines: Iterable[str]) -> int:
    """The width the text was wrapped at: the 90th percentile of non-blank line lengths."""
    lengths = sorted(len(line.rstrip()) for line in lines if line.strip())
    if not lengths:
        return 0
    return lengths[min(len(lengths) - 1, int(len(lengths) * 0.9))]


def join_lines(lines: list[str], vocabulary: set[str] | None = None) -> str:
    """Join wrapped lines with single spaces; ``exam-`` + ``ple`` becomes ``example`` unless the
    hyphenated form occurs elsewhere (``vocabulary``: lower-cased words of the whole document).
    Linear in the text: each line is looked at once, with the last word carried along."""
    parts: list[str] = []
    word = ""  # the last word of the text joined so far
    for line in (line.strip() for line in lines):
        if not line:
            continue
        glued = True
        if word.endswith("\u00ad"):  # a soft hyphen: the word was broken here for the line end only
            parts[-1], word = parts[-1][:-1], word[:-1]
        elif 1 < len(word) <= _LONGEST_WORD and word[-1] in "-\u2010" and "a" <= word[-2] <= "z" and line[:1].islower():
            tail = re.match(r"\w+", line)  # U+2010 is the hyphen man(1) writes at a line end
            hyphenated = f"{word[:-1]}-{tail.group(0) if tail else ''}".lower()
            if vocabulary is None or hyphenated not in vocabulary:  # else a real compound ("well-known")
                parts[-1], word = parts[-1][:-1], word[:-1]
        else:
            glued = False
            if parts:
                parts.append(" ")
        parts.append(line)
        last = line.rsplit(None, 1)
        word = (word + line)[-_LONGEST_WORD - 1 :] if glued and len(last) == 1 else last[-1]
    return "".join(parts)


def text_blocks(paragraph: list[str], width: int, vocabulary: set[str] | None = None) -> list[RawBlock]:
    """Blocks of one paragraph (lines with no blank line between them) of hard-wrapped text."""
    if len(paragraph) == 1 and (heading := _heading_level(paragraph[0])):
        return [RawBlock("heading", paragraph[0].strip(), heading)]
    if sum(bool(_COLUMNS.search(line.strip())) for line in paragraph) >= max(2, len(paragraph) // 2):
        return _table_blocks(paragraph, vocabulary)
    blocks: list[RawBlock] = []
    current: list[str] = []
    kind = "paragraph"

    def flush() -> None:
        nonlocal current
        if current:
            blocks.append(RawBlock(kind, join_lines(current, vocabulary)))  # type: ignore[arg-type]
        current = []

    indent0 = _indent(paragraph[0]) if paragraph else 0
    for i, line in enumerate(paragraph):
        if not line.strip():
            continue
        if _OPTION.match(line) and i + 1 < len(paragraph) and _indent(paragraph[i + 1]) > _indent(line):
            flush()  # "-z, --gzip" with its description indented below: a term, then its description
            blocks.append(RawBlock("term", line.strip()))
            kind = "description"
            continue
        if current and (ITEM.match(line) or (_indent(line) < indent0 and kind == "description")):
            flush()
            kind = "list_item" if ITEM.match(line) else "paragraph"
        elif not current:
            kind = "list_item" if ITEM.match(line) else kind
        current.append(line)
        if width and len(line.rstrip()) < _SHORT_LINE * width and i + 1 < len(paragraph):
            nxt = paragraph[i + 1]
            # A short line ends a line of text unless the next line plainly continues its sentence.
            if not _continues(line, nxt):
                flush()
                kind = "paragraph" if kind != "description" else kind
    flush()
    return blocks


def _continues(line: str, nxt: str) -> bool:
    """Does ``nxt`` go on with the sentence that the short ``line`` leaves open?"""
    tail = line.rstrip()
    if tail.endswith((".", ":", "!", "?")):
        return False
    last = tail.rsplit(None, 1)[-1].lower() if tail else ""
    return nxt.strip()[:1].islower() or last in _CANNOT_END


_NUMBERED_HEADING = re.compile(r"^\s*(\d{1,2}(?:\.\d{1,2})*)\.?\s+\S")


def _heading_level(line: str) -> int:
    """A lone short line numbered like a section ("3.8.1. Purpose") or in capitals ("DESCRIPTION")."""
    text = line.strip()
    if len(text) > 80 or text.endswith((".", ",", ";")):
        return 0
    numbered = _NUMBERED_HEADING.match(text)
    if numbered:
        return numbered.group(1).count(".") + 1
    letters = [c for c in text if c.isalpha()]
    return 1 if len(letters) >= 3 and all(c.isupper() for c in letters) else 0


def _table_blocks(paragraph: list[str], vocabulary: set[str] | None) -> list[RawBlock]:
    """Rows of a table-like paragraph; lines of prose before or between rows are joined as prose."""
    blocks: list[RawBlock] = []
    prose: list[str] = []
    for line in paragraph:
        if _COLUMNS.search(line.strip()):
            if prose:
                blocks.append(RawBlock("paragraph", join_lines(prose, vocabulary)))
                prose = []
            blocks.append(RawBlock("table_row", " ".join(line.split())))
        elif line.strip():
            prose.append(line)
    if prose:
        blocks.append(RawBlock("paragraph", join_lines(prose, vocabulary)))
    return blocks


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def plain_text_blocks(text: str) -> list[RawBlock]:
    """Blocks of a plain-text file: paragraphs split at blank lines, each unwrapped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").expandtabs(8)
    lines = text.split("\n")
    width = wrap_width(lines)
    vocabulary = {w.lower() for w in HYPHENATED.findall(text)}
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    blocks: list[RawBlock] = []
    for paragraph in paragraphs:
        if paragraph:
            blocks.extend(text_blocks(paragraph, width, vocabulary))
    return blocks
