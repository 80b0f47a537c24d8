"""Sentence boundaries as character spans, so evidence can be cited to the exact characters."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace and a
# capital, digit or opening quote; or at a line break.
_BOUNDARY = re.compile(r"(?<=[.!?])(?P<close>[\"'”’)\]]*)\s+(?=[A-Z0-9\"'“‘\[])|\n+")
_ABBREVIATIONS = re.compile(
    r"\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Gen|Col|Lt|Sgt|Capt|Rep|Sen|Gov|Inc|Ltd|Co|Corp|No|vs|etc|e\.g|i\.e"
    r"|U\.S|U\.N|Jan|Feb|Mar|Apr|Aug|Sept?|Oct|Nov|Dec)\.$|\b[A-Z]\.$"
)


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the sentences in ``text``, shifted by ``offset``; whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        is_line_break = match.group("close") is None
        if not is_line_break and _ABBREVIATIONS.search(text[start : match.start()]):
            continue
        end = match.start() + len(match.group("close") or "")
        _append_trimmed(spans, text, start, end, offset)
        start = match.end()
    _append_trimmed(spans, text, start, len(text), offset)
    return spans


def _append_trimmed(spans: list[tuple[int, int]], text: str, start: int, end: int, offset: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    spans.append((offset + start + lead, offset + start + lead + len(stripped)))
