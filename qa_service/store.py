"""Chroma as the source of truth: chunk vectors + texts, and one record per document.

Each collection ``NAME`` is stored as two Chroma collections: ``NAME`` holds chunks (id, text,
offsets, vector) and ``NAME__docs`` holds one record per document (cleaned text, source, state).
A document becomes visible to readers only when its record says ``ready``, which is written after
all of its chunks, so a question never sees half of a document.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa_service.domain import Chunk, Document
from qa_service.embeddings import Vectors
from qa_service.errors import NotFoundError

_DOCS_SUFFIX = "__docs"
_VERSION_KEY = "qa_version"
READY = "ready"
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
        return sorted(n for n in names if not n.endswith(_DOCS_SUFFIX))

    def has_collection(self, name: str) -> bool:
        return name in self.collection_names()

    def _chunks(self, name: str, *, create: bool = False) -> Any:
        return self._open(name, create=create)

    def _docs(self, name: str, *, create: bool = False) -> Any:
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
        )

    def list_documents(self, name: str) -> list[DocumentInfo]:
        found = self._docs(name).get(include=["metadatas"])
        return sorted(
            (_info(doc_id, meta) for doc_id, meta in zip(found["ids"], found["metadatas"], strict=True)),
            key=lambda info: info.source,
        )

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
            metadatas=[{**record, "state": "writing"} for record in records],
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
            docs.update(ids=ids, metadatas=[{**record, "state": READY} for record in records])
        except BaseException:
            for doc_id in ids:
                self.delete_document(name, doc_id)
            raise
        self._bump_version(name)

    def delete_document(self, name: str, document_id: str) -> None:
        self._chunks(name, create=True).delete(where={"document_id": document_id})
        self._docs(name, create=True).delete(ids=[document_id])
        self._bump_version(name)

    # -- chunks --------------------------------------------------------------------------------

    def all_chunks(self, name: str) -> list[Chunk]:
        """Every chunk of every ready document (for the lexical index)."""
        ready = self.ready_document_ids(name)
        collection = self._chunks(name)
        chunks: list[Chunk] = []
        # Paged: one get() of a whole large collection fails in embedded Chroma ("too many SQL variables",
        # seen at 100k chunks).
        for offset in range(0, int(collection.count()), _PAGE):
            found = collection.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            chunks += [
                _chunk(cid, text, meta)
                for cid, text, meta in zip(found["ids"], found["documents"], found["metadatas"], strict=True)
            ]
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
        results = [(_chunk(cid, text, meta), 1.0 - float(dist)) for cid, text, meta, dist in hits]
        return [(chunk, sim) for chunk, sim in results if chunk.document_id in ready]

    def query_dense_ids(self, name: str, vector: Vectors, k: int) -> list[tuple[str, float]]:
        """Nearest chunk ids and cosine similarities only: the hot path of retrieval, which already holds
        every ready chunk in memory (no texts or metadata to fetch, no count round trip)."""
        found = self._chunks(name).query(query_embeddings=vector[np.newaxis, :], n_results=k, include=["distances"])
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(found["ids"][0], found["distances"][0], strict=True)]

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
    }


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
    )
