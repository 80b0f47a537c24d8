"""Remove page boilerplate (membership/newsletter blocks, bylines, share bars) from loaded blocks.

Cleaning works on blocks and never rewrites the words of the article: the cleaned text is what
citations point into, so a quote must read exactly as the source does. (Structural furniture —
navigation, running headers, page numbers — is dropped by the loaders, which see the structure.)

Two strengths of evidence: phrases that are furniture wherever they appear ("Subscribe to our
newsletter", "Leave a reply") remove a short paragraph anywhere; single words that merely suggest
furniture ("membership", "inbox", "/ month") count only in the trailing block of a page, so a
manual's "membership test" or a mail library's "INBOX" survive.
"""

from __future__ import annotations

import re
from dataclasses import replace

from qa_service.ingest.blocks import RawBlock
from qa_service.text import strip_invisible

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


def clean_blocks(blocks: list[RawBlock]) -> list[RawBlock]:
    """Drop furniture blocks and the furniture tail of one page (or unpaged document)."""
    blocks = [b for b in blocks if b.text.replace("\x00", "").strip()]
    paragraphs = [b.text for b in blocks]
    # The tail from the first furniture-looking paragraph in the second half, when no real prose
    # follows it, is furniture as a whole (price tiers, "Six Months", "Daily news").
    half = len(paragraphs) // 2
    start = next((i for i in range(half, len(paragraphs)) if _looks_like_furniture(paragraphs[i])), None)
    if start is not None and not any(_is_prose(p) and not _looks_like_furniture(p) for p in paragraphs[start:]):
        blocks = blocks[:start]
    return [b for b in blocks if b.kind == "code" or not _is_furniture(b.text)]


def clean_pages(pages: list[list[RawBlock]]) -> list[list[RawBlock]]:
    """Furniture dropped, and characters no reader can see (which could carry text to a model) removed."""
    return [clean_blocks([replace(b, text=strip_invisible(b.text)) for b in page]) for page in pages]
