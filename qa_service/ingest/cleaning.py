"""Remove page boilerplate (membership/newsletter blocks, bylines, share bars) from loaded text.

Cleaning works on paragraphs and never rewrites the words of the article: the cleaned text is what
citations point into, so a quote must read exactly as the source does.

Two strengths of evidence: phrases that are furniture wherever they appear ("Subscribe to our
newsletter", "Leave a reply") remove a short paragraph anywhere; single words that merely suggest
furniture ("membership", "inbox", "/ month") count only in the trailing block of a page, so a
manual's "membership test" or a mail library's "INBOX" survive.
"""

from __future__ import annotations

import re

_STRONG = re.compile(
    r"\b(subscribe (to|now)|sign up (for|to)|become a member|members?[- ]only|read all member content"
    r"|leave a (reply|comment)|all rights reserved|share (this|on) (article|story|page|facebook|twitter)"
    r"|follow us (on|at)|cookie (policy|settings|preferences)|accept (all )?cookies|privacy policy"
    r"|terms of (use|service)|advertisement)\b",
    re.IGNORECASE,
)
_WEAK = re.compile(
    r"\b(newsletters?|membership|subscribe|subscription|inbox|daily news|per month|free zoom|access exclusive"
    r"|kostenlos|nachrichten|related (articles|posts)|read more)\b|/ ?(month|year)\b",
    re.IGNORECASE,
)
_EMPTY_BYLINE = re.compile(r"^\s*by\s*[|:,-]?\s*$", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_WORD = re.compile(r"\w+")
_MAX_FURNITURE_WORDS = 60  # a long paragraph that mentions "subscribe" is content, not furniture


def _short(paragraph: str) -> bool:
    return len(_WORD.findall(paragraph)) <= _MAX_FURNITURE_WORDS


def _is_furniture(paragraph: str) -> bool:
    return bool(_EMPTY_BYLINE.match(paragraph)) or (_short(paragraph) and bool(_STRONG.search(paragraph)))


def _looks_like_furniture(paragraph: str) -> bool:
    return _is_furniture(paragraph) or (_short(paragraph) and bool(_WEAK.search(paragraph)))


def _is_prose(paragraph: str) -> bool:
    """A sentence-like paragraph: enough words and ends like a sentence or a caption."""
    return len(_WORD.findall(paragraph)) >= 8 and paragraph.rstrip()[-1:] in '.!?"”’)'


def clean_section(text: str) -> str:
    """Drop furniture paragraphs and the furniture tail of one section (page)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    paragraphs = [p.strip("\n") for p in _PARAGRAPH_BREAK.split(text)]
    paragraphs = [p for p in paragraphs if p.strip()]
    # The tail from the first furniture-looking paragraph in the second half, when no real prose
    # follows it, is furniture as a whole (price tiers, "Six Months", "Daily news").
    half = len(paragraphs) // 2
    start = next((i for i in range(half, len(paragraphs)) if _looks_like_furniture(paragraphs[i])), None)
    if start is not None and not any(_is_prose(p) and not _looks_like_furniture(p) for p in paragraphs[start:]):
        paragraphs = paragraphs[:start]
    return "\n\n".join(p for p in paragraphs if not _is_furniture(p))


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
