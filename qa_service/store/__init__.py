"""The vector store: Chroma collections of chunks and document records (see ``chroma`` and ``records``)."""

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
    "StoredDocument",
    "validate_collection_name",
]
