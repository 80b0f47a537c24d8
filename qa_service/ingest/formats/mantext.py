"""The plain text that ``man`` prints (``man sshd_config > sshd_config.txt``), read back into its structure.

Formatted man pages have a fixed layout: a header row ("SSHD_CONFIG(5) File Formats Manual SSHD_CONFIG(5)")
and a footer row naming the page again; section names at the left margin (NAME, DESCRIPTION), subsections
indented 3; body text indented 7, wrapped with two spaces after a full stop; and each option or keyword as a
tagged paragraph: the tag on its own line at the body's indent, or at the start of the first line when it is
short ("DHOME  The directory ..."), and its description indented further. This reader undoes the wrapping
(lines joined, the line-end hyphen man writes, U+2010, joined) and keeps sections as headings, each tag as a
term with its description, deeper-indented lines without a tag as code; the title is the NAME line
("sshd_config — OpenSSH daemon configuration file"). Text that does not look like a man page is left to the
general plain-text reader.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter

from qa_service.ingest.blocks import RawBlock
from qa_service.ingest.reflow import HYPHENATED, join_lines

_HEADER = re.compile(r"^\s*(?P<page>[\w.:+-]+\((?P<section>[1-9n][\w]*)\))\s.*\S\s+(?P=page)\s*$")
_SECTION = re.compile(r"^[A-Z][A-Z0-9 ,/&()-]*$")
_TAB = 8
_OVERSTRIKE = re.compile(".\x08")


def looks_like_man_output(text: str) -> bool:
    """A header row "NAME(N) ... NAME(N)" at the top, a NAME section at the left margin and its line indented
    under it (man's layout; text already unwrapped and unindented is left to the plain-text reader)."""
    head = [_OVERSTRIKE.sub("", line) for line in text[:4000].expandtabs(_TAB).splitlines() if line.strip()][:4]
    if len(head) < 3 or _HEADER.match(head[0]) is None:
        return False
    at = next((i for i, line in enumerate(head) if line.rstrip() == "NAME"), None)
    return at is not None and at + 1 < len(head) and _indent(head[at + 1]) >= 3


def man_text_blocks(text: str) -> tuple[list[RawBlock], str]:
    """(blocks, title) of ``man``'s output (``looks_like_man_output`` must hold)."""
    lines = [line.rstrip() for line in text.expandtabs(_TAB).splitlines()]
    lines = [_OVERSTRIKE.sub("", line) for line in lines]  # "N\bN" (bold), "_\bx" (underline) from a raw pipe
    header = _HEADER.match(next(line for line in lines if line.strip()))
    assert header is not None
    page = header.group("page")
    body = [line for line in lines if not (page in line and _HEADER.match(line) is None and _is_footer(line, page))]
    body = [line for line in body if _HEADER.match(line) is None]
    vocabulary = {w.lower() for w in HYPHENATED.findall(text)}  # "well-known" stays hyphenated across lines
    indents = Counter(_indent(line) for line in body if 7 < _indent(line) <= 30)
    reader = _Reader(
        vocabulary, max((len(line) for line in body), default=80), indents.most_common(1)[0][0] if indents else 14
    )
    return as_page([block for paragraph in _tagged(_paragraphs(body)) for block in reader.blocks(paragraph)])


def _is_footer(line: str, page: str) -> bool:
    """The last row: "OpenSSH 9.2   February 2, 2023   SSHD_CONFIG(5)" (a date or version and the page)."""
    return line.rstrip().endswith(page) and _indent(line) < 8


def _paragraphs(lines: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def _tagged(paragraphs: list[list[str]]) -> list[list[str]]:
    """A lone tag line followed, after a blank line, by its deeper-indented description: one paragraph."""
    out: list[list[str]] = []
    for paragraph in paragraphs:
        previous = out[-1] if out else None
        if (
            previous is not None
            and len(previous) == 1
            and 0 < _indent(previous[0]) < _indent(paragraph[0])
            and not previous[0].rstrip().endswith((".", ":", ";"))
            and all(_indent(line) > _indent(previous[0]) for line in paragraph)
        ):
            out[-1] = previous + paragraph
        else:
            out.append(paragraph)
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


class _Reader:
    """Blocks paragraph by paragraph, remembering the column of the description being read: a later
    paragraph at that column goes on describing the same option (its heading path keeps the option)."""

    def __init__(self, vocabulary: set[str], width: int, description_column: int) -> None:
        self.vocabulary = vocabulary
        self.width = width  # the page's line width
        self.description_column = description_column  # where descriptions usually start (14)
        self.column: int | None = None  # where the current description's lines start

    def blocks(self, paragraph: list[str]) -> list[RawBlock]:
        out: list[RawBlock] = []
        if _indent(paragraph[0]) < 5 and (_indent(paragraph[0]) > 0 or _SECTION.match(paragraph[0].strip())):
            # A section name at the margin (level 1) or a subsection indented 3 (level 2).
            out.append(RawBlock("heading", _spaces(paragraph[0]), 1 if _indent(paragraph[0]) == 0 else 2))
            self.column = None
            paragraph = paragraph[1:]
        if not paragraph:
            return out
        base = _indent(paragraph[0])
        column = _indent(paragraph[1]) if len(paragraph) > 1 else self.description_column
        first = paragraph[0]
        # A tag alone ("-a, --all") leaves its line short; a one-line tagged paragraph ("--help  display this
        # help and exit") has its text at the usual description column, two spaces or more after the tag.
        filled = len(first) >= 0.75 * self.width if len(paragraph) > 1 else first[column - 2 : column] == "  "
        at_column = base < column < len(first) and first[column - 1] == " " and first[column] != " "
        if filled and at_column and first[base:column].strip():
            # A short tag with its description on the same line, at the description's column: "DHOME  The ..."
            self.column = column
            return [
                *out,
                RawBlock("term", _spaces(first[base:column])),
                self._description([first[column:], *paragraph[1:]]),
            ]
        tags = list(itertools.takewhile(lambda line: _indent(line) == base, paragraph))
        if tags and len(tags) < len(paragraph) and all(_indent(line) > base for line in paragraph[len(tags) :]):
            # Tags on their own lines (one, or several sharing a description), the description indented under them.
            self.column = _indent(paragraph[len(tags)])
            return [
                *out,
                RawBlock("term", ", ".join(_spaces(t) for t in tags)),
                self._description(paragraph[len(tags) :]),
            ]
        if self.column is not None and base == self.column:
            return [*out, self._description(paragraph)]  # the same option's description goes on
        if self.column is not None and base < self.column:
            self.column = None
        prose = any(line.rstrip().endswith((".", ":", ";")) for line in paragraph)
        if (self.column is not None and base > self.column) or (base > 7 and not prose):
            # Set apart inside an option's description, or not prose: an example to type as it is.
            return [*out, RawBlock("code", "\n".join(line[base:] for line in paragraph))]
        return [*out, RawBlock("paragraph", _joined(paragraph, self.vocabulary))]

    def _description(self, lines: list[str]) -> RawBlock:
        return RawBlock("description", _joined(lines, self.vocabulary))


def _spaces(text: str) -> str:
    """Single spaces: man justifies lines and puts two after a full stop."""
    return " ".join(text.split())


def _joined(lines: list[str], vocabulary: set[str]) -> str:
    return _spaces(join_lines(lines, vocabulary))


def as_page(blocks: list[RawBlock]) -> tuple[list[RawBlock], str]:
    """(blocks, title) of a man page read by either reader. The title is the NAME section's line, "name -
    what it is" written with an em dash. The page's name heads its blocks, with the sections one level under
    it, so every heading path starts with the page, as a manual's paths start with its title:
    "sshd_config › DESCRIPTION › MaxAuthTries"."""
    for at, block in enumerate(blocks[:-1]):
        if block.kind == "heading" and block.text.strip().upper() == "NAME":
            line = " ".join(blocks[at + 1].text.split())
            name, dash, what = line.partition(" - ")
            if not dash:
                return blocks, line[:200]
            sections = [RawBlock(b.kind, b.text, b.level + 1) if b.kind == "heading" else b for b in blocks]
            return [RawBlock("heading", name.strip(), 1), *sections], f"{name} — {what}"[:200]
    return blocks, ""
