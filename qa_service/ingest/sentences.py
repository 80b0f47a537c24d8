"""Sentence boundaries as character spans, so evidence can be cited to the exact characters."""

from __future__ import annotations

import re

import numpy as np

from qa_service.domain import Spans
from qa_service.ingest.blocks import Block

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


def document_sentences(text: str, blocks: tuple[Block, ...]) -> list[tuple[int, int]]:
    """Sentence spans of a document that never cross a block; a definition term and the first sentence
    of its description are one span ("bisect.insort_left(a, x) Insert x in a in sorted order.").
    Without blocks (documents indexed before blocks existed) the whole text is split."""
    if not blocks:
        return split_sentences(text)
    spans: list[tuple[int, int]] = []
    pending_term: tuple[int, int] | None = None
    for block in blocks:
        inner = split_sentences(text[block.start : block.end], block.start)
        if block.kind == "term":
            if pending_term is not None:
                spans.append(pending_term)
            pending_term = (block.start, block.end)
            continue
        if pending_term is not None:
            if block.kind == "description" and inner:
                inner[0] = (pending_term[0], inner[0][1])
            else:
                spans.append(pending_term)
            pending_term = None
        spans.extend(inner)
    if pending_term is not None:
        spans.append(pending_term)
    return spans


def overlapping(spans: Spans, start: int, end: int) -> range:
    """Rows of ``spans`` (in order, none overlapping) that overlap ``[start, end)``, by binary search."""
    first = int(np.searchsorted(spans[:, 1], start, side="right"))  # the first span ending after start
    last = int(np.searchsorted(spans[:, 0], end, side="left"))  # spans starting before end
    return range(first, max(first, last))
