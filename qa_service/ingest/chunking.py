"""Split a cleaned document into overlapping chunks that keep their character offsets."""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from qa_service.domain import Chunk, Document

_SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


def chunk_document(document: Document, *, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Chunks with ``document.text[chunk.start:chunk.end] == chunk.text`` for every chunk."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=_SEPARATORS,
        keep_separator="end",
        add_start_index=True,
    )
    chunks: list[Chunk] = []
    for piece in splitter.create_documents([document.text]):
        start = int(piece.metadata["start_index"])
        text = piece.page_content
        if start < 0 or document.text[start : start + len(text)] != text:
            # The splitter locates pieces with str.find; recover the true offset if it slipped.
            start = document.text.find(text, max(0, chunks[-1].start if chunks else 0))
        if not text.strip() or start < 0:
            continue
        chunks.append(
            Chunk(
                id=f"{document.id}:{len(chunks):05d}",
                document_id=document.id,
                index=len(chunks),
                start=start,
                end=start + len(text),
                text=text,
                source=document.source,
                page=document.page_at(start),
                title=document.title,
            )
        )
    return chunks
