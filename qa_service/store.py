"""Chroma as the source of truth: chunk vectors + texts, and one record per document.

Each collection ``NAME`` is stored as two Chroma collections: ``NAME`` holds chunks (id, text,
offsets, vector) and ``NAME__docs`` holds one record per document (cleaned text, source, state).
A document becomes visible to readers only when its record says ``ready``, which is written after
all of its chunks, so a question never sees half of a document.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

from qa_service.domain import Chunk, Claim, Document
from qa_service.embeddings import Vectors
from qa_service.errors import InvalidInputError, NotFoundError
from qa_service.settings import COLLECTION_PATTERN

_DOCS_SUFFIX = "__docs"
_VERSION_KEY = "qa_version"
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
    if not _COLLECTION_NAME.fullmatch(name) or name.endswith(_DOCS_SUFFIX):
        raise InvalidInputError(
            f"invalid collection name {name[:80]!r}: use 3-57 letters, digits, '_' or '-', "
            "starting and ending with a letter or digit",
            code="invalid_collection",
        )
    return name


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


class ChromaStore:
    """Reads and writes documents and chunks; always passes our own vectors (no Chroma embedding function)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    @classmethod
    def persistent(cls, path: Path) -> ChromaStore:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
        return cls(client)

    # -- collections -------------------------------------------------------------------------

    def collection_names(self) -> list[str]:
        names = [c if isinstance(c, str) else c.name for c in self._client.list_collections()]
        return sorted(n.removesuffix(_DOCS_SUFFIX) for n in names if n.endswith(_DOCS_SUFFIX))

    def has_collection(self, name: str) -> bool:
        return name in self.collection_names()

    def _chunks(self, name: str, *, create: bool = False) -> Any:
        if create:
            self._docs(name, create=True)
        return self._open(name, create=create)

    def _docs(self, name: str, *, create: bool = False) -> Any:
        if create:
            validate_collection_name(name)
            self._open(name, create=True)  # a collection always has both halves
        return self._open(name + _DOCS_SUFFIX, create=create)

    def _open(self, name: str, *, create: bool) -> Any:
        if create:
            return self._client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        try:
            return self._client.get_collection(name, embedding_function=None)
        except Exception as exc:  # chromadb raises NotFoundError or ValueError depending on version
            raise NotFoundError(
                f"collection {name.removesuffix(_DOCS_SUFFIX)!r} does not exist", code="collection_not_found"
            ) from exc

    def version(self, name: str) -> str:
        """A token that changes on every write to the collection (drives lexical index rebuilds)."""
        metadata = self._docs(name).metadata or {}
        return str(metadata.get(_VERSION_KEY, ""))

    def _bump_version(self, name: str) -> None:
        self._docs(name).modify(metadata={_VERSION_KEY: uuid.uuid4().hex})

    # -- documents -----------------------------------------------------------------------------

    def get_document(self, name: str, document_id: str) -> Document:
        found = self._docs(name).get(ids=[document_id], include=["documents", "metadatas"])
        if not found["ids"]:
            raise NotFoundError(f"document {document_id!r} not found in {name!r}", code="document_not_found")
        meta = found["metadatas"][0]
        return Document(
            id=document_id,
            source=str(meta["source"]),
            title=str(meta.get("title", "")),
            text=found["documents"][0],
            media_type=str(meta.get("media_type", "text/plain")),
            page_starts=tuple(json.loads(str(meta.get("page_starts", "[]")))),
            claims=tuple(Claim(**c) for c in json.loads(str(meta.get("claims", "[]")))),
        )

    def list_documents(self, name: str) -> list[DocumentInfo]:
        """Every document of the collection, in any state, ordered by source."""
        found = self._docs(name).get(include=["metadatas"])
        return sorted(
            (_info(doc_id, meta) for doc_id, meta in zip(found["ids"], found["metadatas"], strict=True)),
            key=lambda info: (info.source, info.id),
        )

    def document_info(self, name: str, document_id: str) -> DocumentInfo:
        found = self._docs(name).get(ids=[document_id], include=["metadatas"])
        if not found["ids"]:
            raise NotFoundError(f"document {document_id!r} not found in {name!r}", code="document_not_found")
        return _info(document_id, found["metadatas"][0])

    def find_document(self, name: str, document_id: str) -> DocumentInfo | None:
        try:
            return self.document_info(name, document_id)
        except NotFoundError:
            return None

    def register_document(
        self, name: str, document_id: str, *, source: str, size: int, dimension: int, owner: str = ""
    ) -> None:
        """Record a document as ``received`` before any work on it, so its progress can be followed.
        ``owner`` names the process that will ingest it (crash recovery takes over only dead owners' work)."""
        meta = {"source": source, "title": "", "size": size, "chunk_count": 0, "owner": owner, **_stamp(RECEIVED)}
        self._docs(name, create=True).upsert(
            ids=[document_id], documents=[""], embeddings=[_placeholder(dimension)], metadatas=[meta]
        )

    def set_state(
        self, name: str, document_id: str, state: DocumentState, *, error: str = "", owner: str | None = None
    ) -> None:
        """Move a document along its life; ``failed`` removes whatever chunks it had (nothing half-done)."""
        if state == FAILED:
            self._chunks(name, create=True).delete(where={"document_id": document_id})
        meta: dict[str, str | float] = {**_stamp(state), "error": error}
        if owner is not None:
            meta["owner"] = owner
        self._docs(name).update(ids=[document_id], metadatas=[meta])

    def set_progress(self, name: str, document_id: str, *, embedded: int, chunks: int) -> None:
        """How far embedding a document has got (shown while it is ``chunked``)."""
        self._docs(name).update(ids=[document_id], metadatas=[{"embedded_chunks": embedded, "chunk_count": chunks}])

    def unfinished_documents(self, name: str) -> list[DocumentInfo]:
        """Documents whose ingestion stopped before ``ready`` or ``failed`` (a crash, a kill)."""
        found = self._docs(name).get(where={"state": {"$in": list(IN_PROGRESS)}}, include=["metadatas"])
        return [_info(i, m) for i, m in zip(found["ids"], found["metadatas"], strict=True)]

    def remove_orphan_chunks(self, name: str) -> int:
        """Delete chunks whose document record is gone or failed (left by a crash mid-write); returns how many.
        Chunks of documents still in progress are left to whoever finishes or fails them."""
        records = {info.id: info.state for info in self.list_documents(name)}
        found = self._chunks(name, create=True).get(include=["metadatas"])
        orphans = [
            cid
            for cid, meta in zip(found["ids"], found["metadatas"], strict=True)
            if not meta or records.get(str(meta["document_id"]), FAILED) == FAILED
        ]
        batch = max(1, int(self._client.get_max_batch_size()))
        for i in range(0, len(orphans), batch):
            self._chunks(name).delete(ids=orphans[i : i + batch])
        if orphans:
            self._bump_version(name)
        return len(orphans)

    def integrity_problems(self, name: str) -> list[str]:
        """What a reader could trip over: orphan chunks, ready documents missing chunks. Empty when sound."""
        problems = []
        counts: dict[str, int] = {}
        for meta in self._chunks(name, create=True).get(include=["metadatas"])["metadatas"]:
            if not meta:
                continue
            counts[str(meta["document_id"])] = counts.get(str(meta["document_id"]), 0) + 1
        infos = {info.id: info for info in self.list_documents(name)}
        for doc_id, count in counts.items():
            info = infos.get(doc_id)
            if info is None or info.state != READY:
                problems.append(f"{count} chunks of {doc_id} whose document is {info.state if info else 'missing'}")
        for info in infos.values():
            if info.state == READY and counts.get(info.id, 0) != info.chunk_count:
                problems.append(f"{info.id} is ready with {counts.get(info.id, 0)} of {info.chunk_count} chunks")
        return problems

    def ready_document_ids(self, name: str) -> set[str]:
        found = self._docs(name).get(where={"state": READY}, include=[])
        return set(found["ids"])

    def indexed_versions(self, name: str, source: str) -> dict[str, str | None]:
        """Documents stored for ``source``: id -> pipeline fingerprint (None while not ready)."""
        found = self._docs(name, create=True).get(where={"source": source}, include=["metadatas"])
        return {
            doc_id: str(meta.get("fingerprint", "")) if meta.get("state") == READY else None
            for doc_id, meta in zip(found["ids"], found["metadatas"], strict=True)
        }

    def put_documents(self, name: str, items: Sequence[StoredDocument], *, fingerprint: str = "") -> None:
        """Write documents and their chunks in a few batched calls; readers see each document whole or
        not at all (its record turns ``ready`` only after all its chunks are written)."""
        if not items:
            return
        docs = self._docs(name, create=True)
        chunk_collection = self._chunks(name, create=True)
        records = [_record(item, fingerprint) for item in items]
        ids = [item.document.id for item in items]
        docs.upsert(
            ids=ids,
            documents=[item.document.text for item in items],
            embeddings=[_centroid(item.vectors) for item in items],
            metadatas=[{**record, **_stamp(EMBEDDED)} for record in records],
        )
        try:
            rewritten = [item.document.id for item in items if item.replaces_chunks]
            if rewritten:
                chunk_collection.delete(where={"document_id": {"$in": rewritten}})
            chunks = [c for item in items for c in item.chunks]
            vectors = [v for item in items for v in item.vectors.tolist()]
            batch = max(1, int(self._client.get_max_batch_size()))
            for i in range(0, len(chunks), batch):
                part = chunks[i : i + batch]
                chunk_collection.add(
                    ids=[c.id for c in part],
                    documents=[c.text for c in part],
                    embeddings=vectors[i : i + batch],
                    metadatas=[_chunk_metadata(c) for c in part],
                )
            docs.update(ids=ids, metadatas=[{**record, **_stamp(READY)} for record in records])
        except BaseException as exc:
            for doc_id in ids:  # nothing half-done: the chunks go, the record says why
                self.set_state(name, doc_id, FAILED, error=f"storing failed: {exc}"[:500])
            raise
        self._bump_version(name)

    def delete_document(self, name: str, document_id: str) -> None:
        """Remove the document's record and chunks (readers stop seeing it at once: the record goes first)."""
        self._docs(name, create=True).delete(ids=[document_id])
        self._chunks(name, create=True).delete(where={"document_id": document_id})
        self._bump_version(name)

    # -- chunks --------------------------------------------------------------------------------

    def all_chunks(self, name: str) -> list[Chunk]:
        """Every chunk of every ready document (for the lexical index)."""
        ready = self.ready_document_ids(name)
        found = self._chunks(name).get(include=["documents", "metadatas"])
        chunks = (
            _chunk(cid, text, meta)
            for cid, text, meta in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
            if meta and text is not None
        )
        return [c for c in chunks if c.document_id in ready]

    def query_dense(self, name: str, vector: Vectors, k: int, ready: set[str]) -> list[tuple[Chunk, float]]:
        """Nearest chunks by cosine similarity, restricted to ready documents."""
        collection = self._chunks(name)
        n = min(k, collection.count())
        if n == 0:
            return []
        found = collection.query(
            query_embeddings=[vector.tolist()], n_results=n, include=["documents", "metadatas", "distances"]
        )
        hits = zip(found["ids"][0], found["documents"][0], found["metadatas"][0], found["distances"][0], strict=True)
        # A chunk deleted while the query ran can come back without its metadata: it is gone, skip it.
        results = [(_chunk(cid, text, meta), 1.0 - float(dist)) for cid, text, meta, dist in hits if meta and text]
        return [(chunk, sim) for chunk, sim in results if chunk.document_id in ready]

    def chunk_at(self, name: str, document_id: str, offset: int) -> Chunk | None:
        """The first chunk of a document that holds the character at ``offset``."""
        where = {"$and": [{"document_id": document_id}, {"start": {"$lte": offset}}, {"end": {"$gt": offset}}]}
        found = self._chunks(name).get(where=where, include=["documents", "metadatas"])
        rows = zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        chunks = [_chunk(cid, text, meta) for cid, text, meta in rows]
        return min(chunks, key=lambda c: c.index, default=None)

    def chunk_count(self, name: str) -> int:
        return int(self._chunks(name).count())


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document ready to write: its chunks and their vectors (row i embeds chunk i)."""

    document: Document
    chunks: Sequence[Chunk]
    vectors: Vectors
    replaces_chunks: bool = False  # the id already has chunks (re-index) that must go first


def _record(item: StoredDocument, fingerprint: str) -> dict[str, str | int]:
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
    }


def _stamp(state: str) -> dict[str, str | float]:
    return {"state": state, "updated_at": round(time.time(), 3)}


def _placeholder(dimension: int) -> list[float]:
    """A unit vector for a record with no chunks yet (Chroma needs one; document records are never searched)."""
    return [1.0] + [0.0] * (dimension - 1)


def _centroid(vectors: Vectors) -> list[float]:
    """The document record's vector: the normalised mean of its chunks (Chroma needs one per record)."""
    if not len(vectors):
        return [0.0] * (vectors.shape[1] if vectors.ndim == 2 else 1)
    mean = vectors.mean(axis=0)
    return (mean / (float(np.linalg.norm(mean)) or 1.0)).tolist()  # type: ignore[no-any-return]


def _chunk_metadata(chunk: Chunk) -> dict[str, str | int]:
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
    return meta


def _chunk(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
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
    )


def _info(document_id: str, meta: dict[str, Any]) -> DocumentInfo:
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
    )
