"""Split a cleaned document into overlapping chunks that keep their character offsets.

LangChain's recursive splitter cuts at blank lines first, which are the block boundaries of the cleaned
text, so a block that fits a chunk is kept whole; ``chunk_overlap`` carries context across chunks. Each
chunk carries the heading path of where it starts. (Packing whole blocks without overlap was tried and
lowered the seed's synthesis coverage and python-docs' MRR, BENCHMARKS.md.)
"""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from qa_service.domain import Chunk, Document
from qa_service.ingest.blocks import Block, BlockIndex

_SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def chunk_document(document: Document, *, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Chunks with ``document.text[chunk.start:chunk.end] == chunk.text`` for every chunk."""
    index = BlockIndex(document.text, document.blocks)
    whole = Block("paragraph", 0, len(document.text))
    chunks: list[Chunk] = []
    for start, end in _split_long(document.text, whole, chunk_size, chunk_overlap):
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
