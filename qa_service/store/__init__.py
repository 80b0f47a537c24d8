"""The vector store: Chroma collections of chunks, document records and sentence vectors (see ``chroma``
and ``records``)."""

from qa_service.store.chroma import ChromaStore
from qa_service.store.records import (
    ALL_STATES,
    CHUNKED,
    EMBEDDED,
    FAILED,
    IN_PROGRESS,
    PARSED,
    READY,
    RECEIVED,
    DocumentInfo,
    DocumentState,
    SentenceVectors,
    StoredDocument,
    validate_collection_name,
)

__all__ = [
    "ALL_STATES",
    "CHUNKED",
    "EMBEDDED",
    "FAILED",
    "IN_PROGRESS",
    "PARSED",
    "READY",
    "RECEIVED",
    "ChromaStore",
    "DocumentInfo",
    "DocumentState",
    "SentenceVectors",
    "StoredDocument",
    "validate_collection_name",
]
