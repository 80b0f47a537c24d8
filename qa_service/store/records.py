"""What the store writes and reads back: document states, record and chunk metadata, and their codecs.

Each collection ``NAME`` is three Chroma collections: ``NAME`` holds chunks (id, text, offsets, vector),
``NAME__docs`` holds one record per document (cleaned text, source, state, claims) and ``NAME__sent`` the
vectors of each document's sentences, embedded at ingestion so a question embeds only itself.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np

from qa_service.domain import Chunk, Claim, Document, MetadataValue, Spans
from qa_service.embeddings import Vectors
from qa_service.errors import InvalidInputError
from qa_service.ingest.blocks import Block
from qa_service.ingest.sentences import overlapping
from qa_service.settings import COLLECTION_PATTERN

DOCS_SUFFIX = "__docs"
SENTENCES_SUFFIX = "__sent"  # short: Chroma names are at most 63 characters, ours 57
_COLLECTION_NAME = re.compile(COLLECTION_PATTERN)

# A document's life: received -> parsed -> chunked -> embedded -> ready, or failed (with the reason).
# Only `ready` documents are visible to questions.
DocumentState = Literal["received", "parsed", "chunked", "embedded", "ready", "failed"]
RECEIVED: Final = "received"
PARSED: Final = "parsed"
CHUNKED: Final = "chunked"
EMBEDDED: Final = "embedded"
READY: Final = "ready"
FAILED: Final = "failed"
IN_PROGRESS = (RECEIVED, PARSED, CHUNKED, EMBEDDED)
ALL_STATES = (*IN_PROGRESS, READY, FAILED)


def validate_collection_name(name: str) -> str:
    """Collection names are 3..57 letters, digits, ``_`` or ``-`` (Chroma's rules, less our suffix)."""
    if not _COLLECTION_NAME.fullmatch(name) or name.endswith((DOCS_SUFFIX, SENTENCES_SUFFIX)):
        raise InvalidInputError(
            f"invalid collection name {name[:80]!r}: use 3-57 letters, digits, '_' or '-', "
            "starting and ending with a letter or digit",
            code="invalid_collection",
        )
    return name


_PAGE = 5000  # records per get() when reading a whole collection


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What the store knows about a document without its text."""

    id: str
    source: str
    title: str
    state: str
    chunk_count: int
    size: int
    error: str | None = None
    updated_at: float = 0.0
    owner: str = ""  # the process ingesting it, while in progress
    embedded_chunks: int = 0
    path: str = ""  # the relative path when ingested from a folder
    metadata: dict[str, MetadataValue] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document ready to write: its chunks and their vectors (row i embeds chunk i), and the vectors of
    its sentences (row i embeds span i of ``document_sentences``; None when they were not embedded)."""

    document: Document
    chunks: Sequence[Chunk]
    vectors: Vectors
    replaces_chunks: bool = False  # the id already has chunks (re-index) that must go first
    sentence_vectors: SentenceVectors | None = None


@dataclass(frozen=True, slots=True)
class SentenceVectors:
    """Vectors of consecutive sentence spans of a document: row i embeds span ``first + i``. ``spans_key``
    identifies the document's spans they were computed for: a reader whose sentence splitter cuts
    differently uses none (and embeds). ``spans``: the spans themselves, given when writing."""

    spans_key: str
    vectors: Vectors
    first: int = 0
    spans: Sequence[tuple[int, int]] = ()

    @staticmethod
    def key(spans: Sequence[tuple[int, int]] | Spans) -> str:
        flat = np.asarray(spans, dtype=np.int64).tobytes()
        return hashlib.sha1(flat, usedforsecurity=False).hexdigest()[:16]


def sentence_records(
    item: SentenceVectors, chunks: Sequence[Chunk]
) -> list[tuple[str, dict[str, str | int], list[float]]]:
    """(id, metadata, vector) of the records holding a document's sentence vectors: one per chunk, keyed
    by the chunk's id, with the vectors of the sentences the chunk overlaps (a question reads exactly the
    records of the chunks it retrieved: ~10 sentences each, not the whole document, which at 100k chunks
    was 42 ms of Chroma reads and 18 ms of decoding a question). A sentence across two chunks is in both.
    Float32 rows (exactly what embedding at question time gives) as base64 text in the metadata; Chroma
    still needs a vector for each record. Not in the record's document: Chroma full-text indexes documents
    by trigram, which made writing them 40x slower (500 against 19,500 sentences/s, benchmarks/scale_ask)."""
    rows = item.vectors.astype(np.float32)
    if not len(rows) or len(item.spans) != len(rows):
        return []
    spans = np.asarray(item.spans, dtype=np.int64).reshape(-1, 2)
    out = []
    for chunk in chunks:
        overlap = overlapping(spans, chunk.start, chunk.end)
        if not overlap:
            continue
        first = overlap.start
        block = rows[first : overlap.stop]
        meta: dict[str, str | int] = {
            "document_id": chunk.document_id,
            "first": first,
            "rows": len(block),
            "dimension": int(rows.shape[1]),
            "spans_key": item.spans_key,
            "dtype": "float32",
            "vectors": base64.b64encode(block.tobytes()).decode("ascii"),
        }
        out.append((chunk.id, meta, centroid(block)))
    return out


def sentence_vectors_from(meta: Mapping[str, Any] | None) -> SentenceVectors | None:
    """A chunk's sentence vectors back from its record; None for a record of another format (such as the
    per-document records written before these) or a damaged one: the sentences get embedded instead."""
    if not meta or "first" not in meta or not isinstance(meta.get("vectors"), str):
        return None
    try:
        block = np.frombuffer(base64.b64decode(meta["vectors"]), dtype=np.dtype(str(meta.get("dtype"))))
        vectors = block.reshape(int(meta["rows"]), int(meta["dimension"])).astype(np.float32)
    except (ValueError, TypeError, KeyError):
        return None
    return SentenceVectors(str(meta["spans_key"]), vectors, first=int(meta["first"]))


def record_metadata(item: StoredDocument, fingerprint: str) -> dict[str, str | int]:
    document = item.document
    return {
        "source": document.source,
        "title": document.title,
        "media_type": document.media_type,
        "page_starts": json.dumps(list(document.page_starts)),
        "chunk_count": len(item.chunks),
        "size": len(document.text),
        "fingerprint": fingerprint,
        "error": "",
        "embedded_chunks": len(item.chunks),
        "claims": json.dumps([dataclasses.asdict(c) for c in document.claims], ensure_ascii=False),
        "blocks": json.dumps([b.encode() for b in document.blocks], separators=(",", ":")),
        **sentence_fields(item),
        **user_metadata(document.metadata),
    }


def sentence_fields(item: StoredDocument) -> dict[str, str]:
    """The document's sentence spans, as the vectors stored with it were cut (int32 pairs as base64):
    a question's ranking reads them instead of splitting each document it misses in the cache again
    (1 ms per 12k characters, for each of the 5 to 10 documents a question retrieves at 100k chunks)."""
    if item.sentence_vectors is None or not len(item.sentence_vectors.spans):
        return {}
    flat = np.asarray(item.sentence_vectors.spans, dtype=np.int32).tobytes()
    return {"sentences": base64.b64encode(flat).decode("ascii")}


def spans_from(meta: Mapping[str, Any]) -> Spans | None:
    """The sentence spans stored with a document (None: not stored, or unreadable)."""
    encoded = meta.get("sentences")
    if not isinstance(encoded, str):
        return None
    try:
        return np.frombuffer(base64.b64decode(encoded), dtype=np.int32).reshape(-1, 2).astype(np.int64)
    except ValueError:
        return None


def user_metadata(metadata: Mapping[str, MetadataValue]) -> dict[str, Any]:
    """Record fields for a document's user metadata: all of it as JSON (to give it back as sent), ``tags``
    as a Chroma array (so ``$contains`` filters on it) and ``path`` as a field of its own."""
    given = {k: v for k, v in metadata.items() if k != "path"}
    fields: dict[str, Any] = {"user_metadata": json.dumps(given, ensure_ascii=False)} if given else {}
    if metadata.get("tags"):
        fields["tags"] = list(metadata["tags"])  # type: ignore[arg-type]
    if isinstance(metadata.get("path"), str):
        fields["path"] = metadata["path"]
    return fields


def stamp(state: str) -> dict[str, str | float]:
    return {"state": state, "updated_at": round(time.time(), 3)}


def placeholder_vector(dimension: int) -> list[float]:
    """A unit vector for a record with no chunks yet (Chroma needs one; document records are never searched)."""
    return [1.0] + [0.0] * (dimension - 1)


def owner_of(record_id: str) -> str:
    """The document a chunk or sentence-vector record belongs to, from its id alone: both are
    ``{document_id}:{number}`` (``chunk_document`` and ``sentence_records`` write them so)."""
    return record_id.rpartition(":")[0]


def centroid(vectors: Vectors) -> list[float]:
    """The document record's vector: the normalised mean of its chunks (Chroma needs one per record)."""
    if not len(vectors):
        return [0.0] * (vectors.shape[1] if vectors.ndim == 2 else 1)
    mean = vectors.mean(axis=0)
    return (mean / (float(np.linalg.norm(mean)) or 1.0)).tolist()  # type: ignore[no-any-return]


def chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
    meta: dict[str, str | int] = {
        "document_id": chunk.document_id,
        "index": chunk.index,
        "start": chunk.start,
        "end": chunk.end,
        "source": chunk.source,
    }
    if chunk.page is not None:
        meta["page"] = chunk.page
    if chunk.title:
        meta["title"] = chunk.title
    if chunk.heading_path:
        meta["heading_path"] = chunk.heading_path
    return meta


def chunk_from(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    page = meta.get("page")
    return Chunk(
        id=chunk_id,
        document_id=str(meta["document_id"]),
        index=int(meta["index"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text,
        source=str(meta["source"]),
        title=str(meta.get("title", "")),
        page=int(page) if page is not None else None,
        heading_path=str(meta.get("heading_path", "")),
    )


def info_from(document_id: str, meta: dict[str, Any]) -> DocumentInfo:
    return DocumentInfo(
        id=document_id,
        source=str(meta["source"]),
        title=str(meta.get("title", "")),
        state=str(meta["state"]),
        chunk_count=int(meta.get("chunk_count", 0)),
        size=int(meta.get("size", 0)),
        error=str(meta.get("error") or "") or None,
        updated_at=float(meta.get("updated_at", 0.0)),
        owner=str(meta.get("owner") or ""),
        embedded_chunks=int(meta.get("embedded_chunks", 0)),
        path=str(meta.get("path") or ""),
        metadata=json.loads(str(meta.get("user_metadata") or "{}")),
    )


def document_from(document_id: str, text: str, meta: dict[str, Any]) -> Document:
    return Document(
        id=document_id,
        source=str(meta["source"]),
        title=str(meta.get("title", "")),
        text=text,
        media_type=str(meta.get("media_type", "text/plain")),
        page_starts=tuple(json.loads(str(meta.get("page_starts", "[]")))),
        claims=tuple(Claim(**c) for c in json.loads(str(meta.get("claims", "[]")))),
        blocks=tuple(Block.decode(b) for b in json.loads(str(meta.get("blocks", "[]")))),
        metadata=json.loads(str(meta.get("user_metadata") or "{}")),
        sentences=spans_from(meta),
    )
