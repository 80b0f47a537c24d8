"""Remove page boilerplate (membership/newsletter blocks, bylines, share bars) from loaded text.

Cleaning works on paragraphs and never rewrites the words of the article: the cleaned text is what
citations point into, so a quote must read exactly as the source does.
"""

from __future__ import annotations

import re

# Phrases that mark a paragraph as site furniture rather than content.
_BOILERPLATE = re.compile(
    r"newsletter|subscribe|sign up|become a member|member-only|membership|members? content"
    r"|leave a (reply|comment)|share (this|on)|follow us|cookie|all rights reserved|privacy policy"
    r"|terms of (use|service)|related (articles|posts)|read more|advertisement|inbox"
    r"|\bper month\b|/ ?(month|year)\b|free zoom|access exclusive|kostenlos|nachrichten",
    re.IGNORECASE,
)
_EMPTY_BYLINE = re.compile(r"^\s*by\s*[|:,-]?\s*$", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_WORD = re.compile(r"\w+")


def _is_boilerplate(paragraph: str) -> bool:
    words = len(_WORD.findall(paragraph))
    if _EMPTY_BYLINE.match(paragraph):
        return True
    # A long paragraph that merely mentions "subscribe" is content; furniture is short.
    return words <= 60 and bool(_BOILERPLATE.search(paragraph))


def _is_prose(paragraph: str) -> bool:
    """A sentence-like paragraph: enough words and ends like a sentence or a caption."""
    return len(_WORD.findall(paragraph)) >= 8 and paragraph.rstrip()[-1:] in '.!?"”’)'


def clean_section(text: str) -> str:
    """Drop boilerplate paragraphs and the boilerplate tail of one section (page)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    paragraphs = [p.strip() for p in _PARAGRAPH_BREAK.split(text)]
    paragraphs = [p for p in paragraphs if p]
    # The tail after the last prose paragraph that follows a boilerplate block is furniture
    # (price tiers, "Six Months", "Daily news") even where no single keyword matches.
    first_boiler = next((i for i, p in enumerate(paragraphs) if _is_boilerplate(p) and i > len(paragraphs) // 2), None)
    if first_boiler is not None and not any(_is_prose(p) and not _is_boilerplate(p) for p in paragraphs[first_boiler:]):
        paragraphs = paragraphs[:first_boiler]
    kept = [p for p in paragraphs if not _is_boilerplate(p)]
    return "\n\n".join(kept)


def clean_sections(sections: list[str]) -> tuple[str, tuple[int, ...]]:
    """Clean each section and join them; return the text and where each section starts in it."""
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for section in sections:
        cleaned = clean_section(section)
        starts.append(offset)
        parts.append(cleaned)
        offset += len(cleaned) + 2
    return "\n\n".join(parts), tuple(starts)
