"""Plain data passed along the one-way flow: file -> Document -> Chunk -> Evidence -> Answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from qa_service.ingest.blocks import Block

# A citation marker in an answer: "[n]" not glued to a word or bracket, so quoted code such as
# "items[0]" is never taken for a citation (the /ask contract and every client use this definition).
CITATION_MARKER = re.compile(r"(?<![\w\]\[])\[(\d{1,3})\]")


MetadataValue = str | int | float | bool | list[str]
Spans = npt.NDArray[np.int64]  # (n, 2): start and end of each span, in order
ClaimKind = Literal["claim", "denial", "dispute"]


@dataclass(frozen=True, slots=True)
class Claim:
    """A sentence that reports what someone says, found at ingestion (``ingest/attribution.py``).

    ``kind`` is "claim" (X said/claimed/told ...), "denial" (X denied ...) or "dispute" (a statement that
    another's claim is false: "X wasn't speaking the truth", "Y contradicted X"); ``target`` is whom a
    dispute is aimed at. Offsets index the document's cleaned text; ``speaker`` is None for unnamed
    reports ("... reportedly played a key role").
    """

    start: int  # the sentence
    end: int
    claim_start: int  # what is claimed (the reported content)
    claim_end: int
    speaker: str | None
    verb: str
    kind: ClaimKind = "claim"
    target: str | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A cleaned document. ``id`` is the content hash of the source file's bytes."""

    id: str
    source: str
    title: str
    text: str
    media_type: str
    page_starts: tuple[int, ...] = ()  # char offset where each PDF page begins in ``text``
    claims: tuple[Claim, ...] = ()  # reported claims, by sentence (ingest/attribution.py)
    blocks: tuple[Block, ...] = ()  # structure: headings, paragraphs, terms, rows... (ingest/blocks.py)
    # User metadata: given at upload, or from Markdown front matter; ``tags`` (a list) is filterable.
    metadata: dict[str, MetadataValue] = field(default_factory=dict)
    # Its sentence spans as cut at ingestion (``ingest/sentences.py``), read back with the document so a
    # question need not split it again; None where they were not stored (they are computed then).
    sentences: Spans | None = field(default=None, compare=False, repr=False)

    def page_at(self, offset: int) -> int | None:
        """1-based page holding ``offset`` (PDF only)."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
        return page + 1


@dataclass(frozen=True, slots=True)
class Chunk:
    """A slice ``document.text[start:end]`` that is embedded and indexed."""

    id: str
    document_id: str
    index: int
    start: int
    end: int
    text: str
    source: str
    page: int | None = None
    title: str = ""
    heading_path: str = ""  # "library › bisect › insort_left": the headings above the chunk's start

    @property
    def search_text(self) -> str:
        """What is embedded and indexed: the chunk with its document's title as context, since a chunk
        deep in a manual page rarely repeats what the page is about. Citations still use ``text``. (The
        heading path in it too lowered python-docs' MRR from 0.752 to 0.734; it stays on the chunk.)"""
        if self.title and self.title not in self.text:
            return f"{self.title}\n{self.text}"
        return self.text


@dataclass(frozen=True, slots=True)
class ScoredChunk:
    """A retrieved chunk with the scores that ranked it."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    dense_similarity: float | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """One sentence span of a document, scored against the question."""

    document_id: str
    source: str
    chunk_id: str
    start: int
    end: int
    text: str
    score: float
    page: int | None = None
    features: dict[str, float] = field(default_factory=dict)
    claim: Claim | None = None  # set when the sentence reports someone's claim
    heading_path: str = ""
    title: str = ""  # the document's title ("" when it has none: sources show the file name)
    block_end: int | None = None  # where the block holding its last character ends (None: no block structure)
