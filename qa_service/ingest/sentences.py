"""Sentence boundaries as character spans, so evidence can be cited to the exact characters."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from qa_service.domain import Spans
from qa_service.ingest.blocks import Block
from qa_service.ingest.reflow import ITEM
from qa_service.text import stripped_span

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
    start, end = stripped_span(text, start, end)
    if start < end:
        spans.append((offset + start, offset + end))


def document_sentences(text: str, blocks: tuple[Block, ...]) -> list[tuple[int, int]]:
    """Sentence spans of a document that never cross a block, with two exceptions: a definition term and
    the first sentence of its description are one span ("bisect.insort_left(a, x) Insert x in a in sorted
    order."), and so is a sentence that runs through a displayed line of code ("The command" / "> sink()" /
    "restores it to the console."). Without blocks (documents indexed before blocks existed) the whole text
    is split."""
    if not blocks:
        return split_sentences(text)
    spans: list[tuple[int, int]] = []
    pending_term: tuple[int, int] | None = None
    for block in blocks:
        start = block.start
        if block.kind == "list_item" and (mark := ITEM.match(text[block.start : block.end])):
            start += mark.end()  # a quote from a list item starts at its text, not at its "•" or "2."
        inner = split_sentences(text[start : block.end], start)
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
    return _through_displays(text, blocks, spans)


MAX_DISPLAY = 200  # characters of a displayed code block that a sentence may run through
_PROSE = frozenset({"paragraph", "list_item", "description"})


def _through_displays(text: str, blocks: tuple[Block, ...], spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join the sentence before a short code block, the block and the sentence after it into one span when
    the prose plainly runs on: it stops without a full stop and goes on in lower case. A colon ends it: the
    display completes what the colon announces ("It can be accessed using:"), and a lower-case word after it
    is more often a name opening the next sentence than the rest of this one."""
    starts = np.asarray([a for a, _ in spans], dtype=np.int64)
    out = list(spans)
    # From the end, so a join never moves the spans an earlier join refers to.
    for before_end, after_start in reversed(list(_display_joins(text, blocks))):
        last = int(np.searchsorted(starts, before_end, side="left")) - 1  # the sentence ending the prose
        first = int(np.searchsorted(starts, after_start, side="left"))  # the sentence opening the rest
        if last >= 0 and first < len(starts) and out[last][1] <= before_end:
            out[last : first + 1] = [(out[last][0], out[first][1])]
    return out


def _display_joins(text: str, blocks: tuple[Block, ...]) -> Iterator[tuple[int, int]]:
    """(end of the prose before, start of the prose after) around each run of one or two short code blocks
    that a sentence runs through."""
    for i in range(1, len(blocks) - 1):
        j = i
        while j < len(blocks) and blocks[j].kind == "code" and blocks[j].end - blocks[j].start <= MAX_DISPLAY:
            j += 1
        if j == i or j - i > 2 or j == len(blocks):
            continue
        before, after = blocks[i - 1], blocks[j]
        head = text[before.start : before.end].rstrip()
        runs_on = head and head[-1] not in ".!?:" and text[after.start : after.start + 1].islower()
        if before.kind in _PROSE and after.kind in _PROSE and runs_on:
            yield before.end, after.start


def overlapping(spans: Spans, start: int, end: int) -> range:
    """Rows of ``spans`` (in order, none overlapping) that overlap ``[start, end)``, by binary search."""
    first = int(np.searchsorted(spans[:, 1], start, side="right"))  # the first span ending after start
    last = int(np.searchsorted(spans[:, 0], end, side="left"))  # spans starting before end
    return range(first, max(first, last))
