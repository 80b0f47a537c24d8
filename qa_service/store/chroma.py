"""ChromaStore: the one owner of Chroma reads and writes. Chroma is the source of truth: chunk vectors and
texts, and one record per document. A document becomes visible to readers only when its record says
``ready``, which is written after all of its chunks, so a question never sees half of a document.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa_service.domain import Chunk, Document, MetadataValue
from qa_service.embeddings import Vectors
from qa_service.errors import NotFoundError, StoreUnavailableError
from qa_service.scope import Scope, check_document_ids
from qa_service.store.faults import guard
from qa_service.store.records import (
    DOCS_SUFFIX,
    EMBEDDED,
    FAILED,
    IN_PROGRESS,
    READY,
    RECEIVED,
    SENTENCES_SUFFIX,
    DocumentInfo,
    DocumentState,
    SentenceVectors,
    StoredDocument,
    centroid,
    chunk_from,
    chunk_metadata,
    document_from,
    info_from,
    owner_of,
    placeholder_vector,
    record_metadata,
    sentence_records,
    sentence_vectors_from,
    stamp,
    user_metadata,
    validate_collection_name,
)

_VERSION_KEY = "qa_version"
_ID_BATCH = 500  # document ids per "$in" filter
_PAGE = 5000  # records per get(): one get() of a whole large collection fails in embedded Chroma
# ("too many SQL variables", seen at 100k chunks)
# Bytes per write: a Chroma server refuses a request body over some tens of MB ("Payload too large"), and
# the client's max_batch_size counts records, not bytes (2,330 sentence-vector records were 76 MB).
_MAX_PAYLOAD = 8_000_000
_ID_PAGE = 50_000  # ids per get() when nothing else is read: 100k ids in 0.6 s this way, 2.4 s by 5000


class ChromaStore:
    """Reads and writes documents and chunks; always passes our own vectors (no Chroma embedding function)."""

    def __init__(self, client: Any) -> None:
        self._client = guard(client)  # transient faults become StoreUnavailableError, on every call
        # Chroma collection handles by name: looking one up costs a round trip (0.5-3 ms), and a question
        # made four to six of them. ``version`` reads the docs half afresh on every question and drops a
        # collection's handles when that half was replaced (deleted and created again outside the service).
        self._handles: dict[str, Any] = {}

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
        return sorted(n.removesuffix(DOCS_SUFFIX) for n in names if n.endswith(DOCS_SUFFIX))

    def has_collection(self, name: str, *, fresh: bool = False) -> bool:
        """Whether the collection exists. One this process holds a handle for counts without asking the
        store (listing every collection was a round trip on each question, 2.8 ms with a server; collections
        are never deleted, and retrieval renews the handle on every question all the same). ``fresh`` asks
        the store (one get, which raises if it is unreachable): for a caller that cannot report an error
        later, such as a stream whose status line goes out first."""
        try:
            if fresh:
                self._handles[name + DOCS_SUFFIX] = self._lookup(name + DOCS_SUFFIX, create=False)
            else:
                self._open(name + DOCS_SUFFIX, create=False)
        except NotFoundError:
            return False
        return True

    def _ensure(self, name: str) -> tuple[Any, Any]:
        """(chunks, docs) of a collection, both created on first use: a collection always has both halves."""
        validate_collection_name(name)
        return self._open(name, create=True), self._open(name + DOCS_SUFFIX, create=True)

    def _chunks(self, name: str, *, create: bool = False) -> Any:
        return self._ensure(name)[0] if create else self._open(name, create=False)

    def _docs(self, name: str, *, create: bool = False) -> Any:
        return self._ensure(name)[1] if create else self._open(name + DOCS_SUFFIX, create=False)

    def _sentences(self, name: str, *, create: bool = False) -> Any | None:
        """The sentence-vector half; None when it does not exist (collections written before it did)."""
        if create:
            return self._open(name + SENTENCES_SUFFIX, create=True)
        try:
            return self._open(name + SENTENCES_SUFFIX, create=False)
        except NotFoundError:
            return None

    def _open(self, name: str, *, create: bool) -> Any:
        handle = self._handles.get(name)
        if handle is None:
            handle = self._handles[name] = self._lookup(name, create=create)
        return handle

    def _lookup(self, name: str, *, create: bool) -> Any:
        if create:
            return self._client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        from chromadb.errors import NotFoundError as ChromaNotFoundError

        try:
            return self._client.get_collection(name, embedding_function=None)
        except (ChromaNotFoundError, ValueError) as exc:  # only "no such collection"; an outage is not that
            raise NotFoundError(
                f"collection {name.removesuffix(DOCS_SUFFIX)!r} does not exist", code="collection_not_found"
            ) from exc

    def version(self, name: str) -> str:
        """A token that changes on every write to the collection (drives lexical index rebuilds). Read
        afresh (a handle's metadata is a snapshot), which also renews the collection's cached handles."""
        docs = self._lookup(name + DOCS_SUFFIX, create=False)
        known = self._handles.get(name + DOCS_SUFFIX)
        if known is not None and known.id != docs.id:
            for suffix in ("", DOCS_SUFFIX, SENTENCES_SUFFIX):
                self._handles.pop(name + suffix, None)
        self._handles[name + DOCS_SUFFIX] = docs
        metadata = docs.metadata or {}
        return str(metadata.get(_VERSION_KEY, ""))

    def _bump_version(self, name: str) -> None:
        self._docs(name).modify(metadata={_VERSION_KEY: uuid.uuid4().hex})

    # -- documents -----------------------------------------------------------------------------

    def get_document(self, name: str, document_id: str) -> Document:
        found = self.get_documents(name, [document_id]).get(document_id)
        if found is None:
            raise NotFoundError(f"document {document_id!r} not found in {name!r}", code="document_not_found")
        return found

    def get_documents(self, name: str, document_ids: Sequence[str]) -> dict[str, Document]:
        """These documents by id, in one get (absent: no such document)."""
        if not document_ids:
            return {}
        found = self._docs(name).get(ids=list(dict.fromkeys(document_ids)), include=["documents", "metadatas"])
        rows = zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        return {doc_id: document_from(doc_id, text, meta) for doc_id, text, meta in rows}

    def list_documents(self, name: str) -> list[DocumentInfo]:
        """Every document of the collection, in any state, ordered by source."""
        rows = _get_all(self._docs(name), include=["metadatas"])
        return sorted(
            (info_from(doc_id, meta) for doc_id, _, meta in rows),
            key=lambda info: (info.source, info.id),
        )

    def document_info(self, name: str, document_id: str) -> DocumentInfo:
        found = self._docs(name).get(ids=[document_id], include=["metadatas"])
        if not found["ids"]:
            raise NotFoundError(f"document {document_id!r} not found in {name!r}", code="document_not_found")
        return info_from(document_id, found["metadatas"][0])

    def find_document(self, name: str, document_id: str) -> DocumentInfo | None:
        try:
            return self.document_info(name, document_id)
        except NotFoundError:
            return None

    def register_document(
        self,
        name: str,
        document_id: str,
        *,
        source: str,
        size: int,
        dimension: int,
        owner: str = "",
        metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None:
        """Record a document as ``received`` before any work on it, so its progress can be followed.
        ``owner`` names the process that will ingest it (crash recovery takes over only dead owners' work);
        ``metadata`` is the user's, given at upload (kept through ingestion and recovery)."""
        meta = {
            "source": source, "title": "", "size": size, "chunk_count": 0, "owner": owner, **stamp(RECEIVED),
            **user_metadata(metadata or {}),
        }  # fmt: skip
        self._docs(name, create=True).upsert(
            ids=[document_id], documents=[""], embeddings=[placeholder_vector(dimension)], metadatas=[meta]
        )

    def set_state(
        self, name: str, document_id: str, state: DocumentState, *, error: str = "", owner: str | None = None
    ) -> None:
        """Move a document along its life; ``failed`` removes whatever chunks it had (nothing half-done)."""
        if state == FAILED:
            self._chunks(name, create=True).delete(where={"document_id": document_id})
            self._delete_sentences(name, [document_id])
        meta: dict[str, str | float] = {**stamp(state), "error": error}
        if owner is not None:
            meta["owner"] = owner
        self._docs(name).update(ids=[document_id], metadatas=[meta])

    def set_progress(self, name: str, document_id: str, *, embedded: int, chunks: int) -> None:
        """How far embedding a document has got (shown while it is ``chunked``); also a sign of life."""
        meta = {"embedded_chunks": embedded, "chunk_count": chunks, "updated_at": round(time.time(), 3)}
        self._docs(name).update(ids=[document_id], metadatas=[meta])

    def unfinished_documents(self, name: str) -> list[DocumentInfo]:
        """Documents whose ingestion stopped before ``ready`` or ``failed`` (a crash, a kill)."""
        found = self._docs(name).get(where={"state": {"$in": list(IN_PROGRESS)}}, include=["metadatas"])
        return [info_from(i, m) for i, m in zip(found["ids"], found["metadatas"], strict=True)]

    def scoped_document_ids(self, name: str, scope: Scope) -> set[str]:
        """Ready documents inside ``scope``: tags and time through a Chroma ``where`` on the document
        records, ids through ``ids``, source globs over the names found. Unknown ids are an error."""
        docs = self._docs(name)
        if scope.document_ids:
            known = docs.get(ids=list(scope.document_ids), include=[])["ids"]
            check_document_ids(scope.document_ids, set(known))
        found = docs.get(ids=list(scope.document_ids) or None, where=scope.where(READY), include=["metadatas"])
        return {
            doc_id
            for doc_id, meta in zip(found["ids"], found["metadatas"], strict=True)
            if scope.matches_source(str(meta.get("source", "")), str(meta.get("path") or ""))
        }

    def ready_document_ids(self, name: str) -> set[str]:
        found = self._docs(name).get(where={"state": READY}, include=[])
        return set(found["ids"])

    def ready_documents(self, name: str) -> dict[str, str]:
        """Ready document id -> a token that changes whenever the document is written again (a re-index
        under the same id): what an index derived from the chunks compares to know what to redo."""
        found = self._docs(name).get(where={"state": READY}, include=["metadatas"])
        return {
            doc_id: f"{meta.get('updated_at', '')}:{meta.get('fingerprint', '')}"
            for doc_id, meta in zip(found["ids"], found["metadatas"], strict=True)
        }

    def indexed_versions(self, name: str, source: str, *, path: str | None = None) -> dict[str, str | None]:
        """Documents stored for a file: id -> pipeline fingerprint (None while not ready). A file ingested
        from a folder is known by its ``path`` (records written before paths were kept have it as their
        source); an upload by its name among the records without a path."""
        where = {"$or": [{"path": path}, {"source": path}]} if path else {"source": source}
        found = self._docs(name, create=True).get(where=where, include=["metadatas"])
        return {
            doc_id: str(meta.get("fingerprint", "")) if meta.get("state") == READY else None
            for doc_id, meta in zip(found["ids"], found["metadatas"], strict=True)
            if path or not meta.get("path")
        }

    def put_documents(self, name: str, items: Sequence[StoredDocument], *, fingerprint: str = "") -> None:
        """Write documents and their chunks in a few batched calls; readers see each document whole or
        not at all (its record turns ``ready`` only after all its chunks are written)."""
        if not items:
            return
        chunk_collection, docs = self._ensure(name)
        records = [record_metadata(item, fingerprint) for item in items]
        ids = [item.document.id for item in items]
        docs.upsert(
            ids=ids,
            documents=[item.document.text for item in items],
            embeddings=[centroid(item.vectors) for item in items],
            metadatas=[{**record, **stamp(EMBEDDED)} for record in records],
        )
        try:
            rewritten = [item.document.id for item in items if item.replaces_chunks]
            if rewritten:
                chunk_collection.delete(where={"document_id": {"$in": rewritten}})
            batch = max(1, int(self._client.get_max_batch_size()))
            self._put_sentences(name, items, batch)
            chunks = [c for item in items for c in item.chunks]
            vectors = [v for item in items for v in item.vectors.tolist()]
            _add_batched(
                chunk_collection,
                batch,
                ids=[c.id for c in chunks],
                documents=[c.text for c in chunks],
                embeddings=vectors,
                metadatas=[chunk_metadata(c) for c in chunks],
            )
            docs.update(ids=ids, metadatas=[{**record, **stamp(READY)} for record in records])
        except StoreUnavailableError:
            raise  # transient: the caller retries, and its rewrite replaces whatever chunks got written
        except BaseException as exc:
            for doc_id in ids:  # nothing half-done: the chunks go, the record says why
                self.set_state(name, doc_id, FAILED, error=f"storing failed: {exc}"[:500])
            raise
        self._bump_version(name)

    def delete_document(self, name: str, document_id: str) -> None:
        """Remove the document's record and chunks (readers stop seeing it at once: the record goes first)."""
        chunks, docs = self._ensure(name)
        docs.delete(ids=[document_id])
        chunks.delete(where={"document_id": document_id})
        self._delete_sentences(name, [document_id])
        self._bump_version(name)

    # -- sentence vectors ------------------------------------------------------------------------

    def _put_sentences(self, name: str, items: Sequence[StoredDocument], batch: int) -> None:
        """Replace the sentence vectors of these documents (written before a document turns ready)."""
        self._delete_sentences(name, [item.document.id for item in items])
        rows = [
            row
            for item in items
            if item.sentence_vectors is not None
            for row in sentence_records(item.sentence_vectors, item.chunks)
        ]
        if not rows:
            return
        collection = self._sentences(name, create=True)
        assert collection is not None
        _add_batched(
            collection, batch, ids=[r[0] for r in rows], embeddings=[r[2] for r in rows], metadatas=[r[1] for r in rows]
        )

    def _delete_sentences(self, name: str, document_ids: Sequence[str]) -> None:
        collection = self._sentences(name)
        if collection is not None and document_ids:
            collection.delete(where={"document_id": {"$in": list(document_ids)}})

    def sentence_owners(self, name: str) -> list[tuple[str, str]]:
        """(record id, document id) of every sentence-vector record, from the ids alone (reading the
        metadata would read every stored vector)."""
        collection = self._sentences(name)
        if collection is None:
            return []
        return [(rid, owner_of(rid)) for rid, _, _ in _get_all(collection, include=[], page=_ID_PAGE)]

    def delete_sentence_records(self, name: str, record_ids: Sequence[str]) -> None:
        collection = self._sentences(name)
        if collection is not None:
            self._delete_ids(collection, record_ids)

    def sentence_vectors(self, name: str, chunk_ids: Sequence[str]) -> dict[str, SentenceVectors]:
        """The stored vectors of the sentences each of these chunks overlaps, by chunk id, in one get
        (absent: none stored, or in a format this reader does not use)."""
        collection = self._sentences(name)
        if collection is None or not chunk_ids:
            return {}
        found = collection.get(ids=list(dict.fromkeys(chunk_ids)), include=["metadatas"])
        out = {}
        for chunk_id, meta in zip(found["ids"], found["metadatas"], strict=True):
            vectors = sentence_vectors_from(meta)
            if vectors is not None:
                out[chunk_id] = vectors
        return out

    # -- chunks --------------------------------------------------------------------------------

    def all_chunks(self, name: str) -> list[Chunk]:
        """Every chunk of every ready document (for the lexical index)."""
        ready = self.ready_document_ids(name)
        rows = _get_all(self._chunks(name), include=["documents", "metadatas"])
        chunks = (chunk_from(cid, text, meta) for cid, text, meta in rows if meta and text is not None)
        return [c for c in chunks if c.document_id in ready]

    def chunks_of(self, name: str, document_ids: Sequence[str]) -> list[Chunk]:
        """Every chunk of these documents, in document then chunk order (a lexical index's delta)."""
        out: list[Chunk] = []
        ids = sorted(document_ids)
        for i in range(0, len(ids), _ID_BATCH):
            where = {"document_id": {"$in": ids[i : i + _ID_BATCH]}}
            rows = _get_all(self._chunks(name), include=["documents", "metadatas"], where=where)
            out.extend(chunk_from(cid, text, meta) for cid, text, meta in rows if meta and text is not None)
        return sorted(out, key=lambda c: (c.document_id, c.index))

    def chunk_owners(self, name: str) -> list[tuple[str, str]]:
        """(chunk id, document id) of every chunk, from the ids alone (a restart at 100k chunks reads no
        texts or metadata to find orphans)."""
        rows = _get_all(self._chunks(name, create=True), include=[], page=_ID_PAGE)
        return [(cid, owner_of(cid)) for cid, _, _ in rows]

    def delete_chunks(self, name: str, chunk_ids: Sequence[str]) -> None:
        self._delete_ids(self._chunks(name), chunk_ids)
        if chunk_ids:
            self._bump_version(name)

    def _delete_ids(self, collection: Any, ids: Sequence[str]) -> None:
        batch = max(1, int(self._client.get_max_batch_size()))
        for i in range(0, len(ids), batch):
            collection.delete(ids=list(ids[i : i + batch]))

    def chunk_at(self, name: str, document_id: str, offset: int) -> Chunk | None:
        """The first chunk of a document that holds the character at ``offset``."""
        where = {"$and": [{"document_id": document_id}, {"start": {"$lte": offset}}, {"end": {"$gt": offset}}]}
        found = self._chunks(name).get(where=where, include=["documents", "metadatas"])
        rows = zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        chunks = [chunk_from(cid, text, meta) for cid, text, meta in rows]
        return min(chunks, key=lambda c: c.index, default=None)

    def query_dense_ids(
        self, name: str, vector: Vectors, k: int, *, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """Nearest chunk ids and cosine similarities only: the hot path of retrieval, which already holds
        every ready chunk in memory (no texts or metadata to fetch, no count round trip). ``where`` is a
        Chroma filter over chunk metadata (a scoped question's documents)."""
        found = self._chunks(name).query(
            query_embeddings=vector[np.newaxis, :], n_results=k, where=where, include=["distances"]
        )
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(found["ids"][0], found["distances"][0], strict=True)]

    def chunk_count(self, name: str) -> int:
        return int(self._chunks(name).count())

    def check_available(self) -> None:
        """Raise ``StoreUnavailableError`` unless the store answers now (readiness)."""
        self._client.heartbeat()


def _get_all(
    collection: Any, *, include: list[str], where: dict[str, Any] | None = None, page: int | None = None
) -> Iterator[tuple[str, Any, Any]]:
    """(id, document, metadata) of every record (matching ``where``), read ``page`` (default _PAGE) at a time."""
    page = page or _PAGE
    offset = 0
    while True:
        found = collection.get(include=include, limit=page, offset=offset, where=where)
        texts = found.get("documents") or [None] * len(found["ids"])
        metas = found.get("metadatas") or [None] * len(found["ids"])
        yield from zip(found["ids"], texts, metas, strict=True)
        if len(found["ids"]) < page:
            return
        offset += page


def _record_bytes(columns: Mapping[str, list[Any]], row: int) -> int:
    """About what one record weighs in a request to a Chroma server (a float is ~20 bytes of JSON)."""
    size = len(columns["ids"][row]) + 20 * len(columns["embeddings"][row])
    size += sum(len(str(v)) + 16 for v in columns["metadatas"][row].values())
    return size + len(columns["documents"][row]) if "documents" in columns else size


def _add_batched(collection: Any, max_records: int, **columns: list[Any]) -> None:
    """``collection.add(**columns)`` (ids, embeddings, metadatas, and documents if given) in requests of at
    most ``max_records`` records and ``_MAX_PAYLOAD`` bytes; a request the server still refuses for its size
    is split in two and sent again."""
    start, total = 0, len(columns["ids"])
    while start < total:
        end, weight = start, 0
        while end < total and end - start < max_records:
            weight += _record_bytes(columns, end)
            if weight > _MAX_PAYLOAD and end > start:
                break
            end += 1
        _add_splitting(collection, {name: values[start:end] for name, values in columns.items()})
        start = end


def _add_splitting(collection: Any, columns: dict[str, list[Any]]) -> None:
    try:
        collection.add(**columns)
    except Exception as exc:
        if len(columns["ids"]) < 2 or not _too_large(exc):
            raise
        half = len(columns["ids"]) // 2
        for part in (slice(0, half), slice(half, None)):
            _add_splitting(collection, {name: values[part] for name, values in columns.items()})


def _too_large(exc: BaseException) -> bool:
    """A server's refusal of a request for its size (HTTP 413, or its message saying so)."""
    import httpx

    if isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code == 413:
        return True
    return "too large" in str(exc).lower()
