"""Split a cleaned document into chunks along its blocks; every chunk keeps its character offsets.

Whole blocks are packed into a chunk up to ``chunk_size``, so a paragraph, a definition or a table row
that fits is never cut; a chunk does not end on a heading or a term (they go with what follows them).
A block longer than a chunk is split by LangChain's recursive splitter, with ``chunk_overlap``. Each
chunk carries the heading path of its first block. Documents without blocks are split as plain text.
"""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from qa_service.domain import Chunk, Document
from qa_service.ingest.blocks import Block, BlockIndex

_SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]
_LEADS = ("heading", "term")  # blocks that introduce the next one


def chunk_document(document: Document, *, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Chunks with ``document.text[chunk.start:chunk.end] == chunk.text`` for every chunk."""
    blocks = document.blocks or (Block("paragraph", 0, len(document.text)),)
    index = BlockIndex(document.text, document.blocks)
    spans: list[tuple[int, int]] = []
    group: list[Block] = []

    def close() -> None:
        nonlocal group
        if group:
            spans.append((group[0].start, group[-1].end))
        group = []

    for block in blocks:
        if block.end - block.start > chunk_size:
            close()
            spans.extend(_split_long(document.text, block, chunk_size, chunk_overlap))
            continue
        if group and block.end - group[0].start > chunk_size:
            tail: list[Block] = []
            while group and group[-1].kind in _LEADS:  # a heading goes with the block after it
                tail.insert(0, group.pop())
            close()
            group = tail
        group.append(block)
    close()
    chunks: list[Chunk] = []
    for start, end in spans:
        text = document.text[start:end]
        if not text.strip():
            continue
        chunks.append(
            Chunk(
                id=f"{document.id}:{len(chunks):05d}",
                document_id=document.id,
                index=len(chunks),
                start=start,
                end=end,
                text=text,
                source=document.source,
                page=document.page_at(start),
                title=document.title,
                heading_path=index.heading_path(start) if document.blocks else "",
            )
        )
    return chunks


def _split_long(text: str, block: Block, chunk_size: int, chunk_overlap: int) -> list[tuple[int, int]]:
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=_SEPARATORS,
        keep_separator="end",
        add_start_index=True,
    )
    body = text[block.start : block.end]
    spans: list[tuple[int, int]] = []
    for piece in splitter.create_documents([body]):
        start = int(piece.metadata["start_index"])
        content = piece.page_content
        if start < 0 or body[start : start + len(content)] != content:
            # The splitter locates pieces with str.find; recover the true offset if it slipped.
            start = body.find(content, spans[-1][0] - block.start if spans else 0)
        if start >= 0 and content.strip():
            spans.append((block.start + start, block.start + start + len(content)))
    return spans
