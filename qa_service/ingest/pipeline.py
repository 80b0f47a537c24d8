"""Ingest files: load -> clean -> chunk -> embed -> store, one document at a time, each all-or-nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from qa_service.domain import Chunk, Document, MetadataValue
from qa_service.embeddings import Embedder, Vectors
from qa_service.errors import QAError, UnsupportedDocumentError
from qa_service.ingest.attribution import find_claims
from qa_service.ingest.blocks import assemble
from qa_service.ingest.chunking import chunk_document
from qa_service.ingest.cleaning import clean_pages
from qa_service.ingest.isolation import Isolated
from qa_service.ingest.loaders import is_supported, load_bytes, loader_for
from qa_service.ingest.sentences import document_sentences
from qa_service.store import CHUNKED, PARSED, ChromaStore, DocumentState, SentenceVectors, StoredDocument

Outcome = Literal["added", "unchanged", "reindexed", "replaced", "failed"]
INDEX_VERSION = 15  # bump when loading, cleaning, chunking or what is embedded changes what gets indexed
EMBED_GROUP = 256  # chunks of consecutive documents embedded together


@dataclass(frozen=True, slots=True)
class IngestResult:
    source: str
    outcome: Outcome
    document_id: str | None = None
    chunks: int = 0
    error: str | None = None
    code: str | None = None  # why it failed, for machines: too_complex, document_too_large, ...


@dataclass(slots=True)
class IngestReport:
    results: list[IngestResult] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(r.outcome == outcome for r in self.results)

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.results)


def document_id_for(data: bytes) -> str:
    """Content hash of the file's bytes: the same file always gets the same id."""
    return hashlib.sha256(data).hexdigest()[:16]


def prepare_document(
    data: bytes,
    source: str,
    *,
    max_pages: int = 2000,
    max_chars: int = 5_000_000,
    metadata: Mapping[str, MetadataValue] | None = None,
) -> Document:
    """Load and clean a file into a ``Document`` (no embedding, no storage); ``metadata`` (the user's)
    is merged over the file's own (front matter), tags joined."""
    loaded = load_bytes(data, source, max_pages=max_pages, max_chars=max_chars)
    raw_chars = sum(len(block.text) for page in loaded.pages for block in page)
    if raw_chars > 2 * max_chars:  # far over even before cleaning: refused without the cost of cleaning it
        raise UnsupportedDocumentError(
            f"{source}: {raw_chars} characters of text; the limit is {max_chars}", code="document_too_large"
        )
    text, blocks, page_starts = assemble(clean_pages(loaded.pages))
    if not text.strip():
        raise UnsupportedDocumentError(f"{source}: no text left after cleaning", code="empty_document")
    if len(text) > max_chars:
        raise UnsupportedDocumentError(
            f"{source}: {len(text)} characters of text; the limit is {max_chars}", code="document_too_large"
        )
    return Document(
        id=document_id_for(data),
        source=source,
        title=loaded.title,
        text=text,
        media_type=loaded.media_type,
        page_starts=page_starts if loader_for(source).paged else (),
        claims=tuple(find_claims(text)),
        blocks=blocks,
        metadata=merge_metadata(loaded.metadata, metadata or {}),
    )


def merge_metadata(own: Mapping[str, MetadataValue], given: Mapping[str, MetadataValue]) -> dict[str, MetadataValue]:
    merged = {**own, **given}
    tags = [*_as_list(own.get("tags")), *_as_list(given.get("tags"))]
    if tags:
        merged["tags"] = list(dict.fromkeys(tags))
    return merged


def _as_list(value: MetadataValue | None) -> list[str]:
    return value if isinstance(value, list) else []


def iter_source_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Supported files under the given files/folders, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and is_supported(p.name))
        else:
            yield path


class Ingestor:
    """Writes documents into one collection of the store."""

    def __init__(
        self,
        *,
        store: ChromaStore,
        embedder: Embedder,
        chunk_size: int,
        chunk_overlap: int,
        max_pages: int = 2000,
        max_chars: int = 5_000_000,
        sentence_vectors: bool = True,
        isolation: Isolated | None = None,
    ) -> None:
        self._store = store
        self._isolation = isolation  # uploads (``ingest_bytes``) are parsed in its child process
        self._sentence_vectors = sentence_vectors
        self._embedder = embedder
        self._chunk_size = chunk_size
        self._chunk_overlap = chunk_overlap
        self._max_pages = max_pages
        self._max_chars = max_chars
        # Same bytes indexed by another pipeline (other chunking, other model) are re-indexed, not skipped.
        self.fingerprint = f"v{INDEX_VERSION}:{chunk_size}:{chunk_overlap}:{embedder.name}" + (
            "" if sentence_vectors else ":nosv"
        )

    def close(self) -> None:
        """Stop the parsing child, if any."""
        if self._isolation is not None:
            self._isolation.close()

    def ingest_bytes(
        self,
        data: bytes,
        source: str,
        *,
        collection: str,
        on_state: Callable[[DocumentState], None] | None = None,
        on_embedded: Callable[[int, int], None] | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> IngestResult:
        """Ingest one file's content; an existing document from the same source is replaced.
        ``on_state`` hears each stage reached (parsed, chunked; the store records embedded and ready);
        ``on_embedded(done, total)`` hears embedding progress in chunks. With isolation, the file is parsed
        in the child process, under its limits, and ``cancelled()`` turning true stops it (``Cancelled``)."""
        planned = self._plan(
            data, source, collection, on_state=on_state, metadata=metadata, isolation=self._isolation,
            cancelled=cancelled,
        )  # fmt: skip
        if isinstance(planned, IngestResult):
            return planned
        return self._write([planned], collection, on_embedded)[0]

    def reindex_document(self, collection: str, document_id: str) -> IngestResult:
        """Chunk and embed a stored document's text again, with the current settings."""
        document = self._store.get_document(collection, document_id)
        chunks = chunk_document(document, chunk_size=self._chunk_size, chunk_overlap=self._chunk_overlap)
        return self._write([_Planned(document, chunks, [document_id])], collection)[0]

    def ingest_paths(
        self,
        paths: Iterable[Path],
        *,
        collection: str,
        on_progress: Callable[[IngestResult], None] | None = None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Ingest files; chunks of consecutive documents are embedded together in full batches (small
        documents would otherwise waste most of each batch), then each document is stored on its own.
        ``on_bytes(n)``: n more bytes of the files are done, reported as embedding goes (a group at a time
        of texts), so a progress bar moves through a large file instead of jumping at its end."""
        report = IngestReport()
        pending: list[_Planned] = []
        pending_bytes = 0

        def emit(results: list[IngestResult]) -> None:
            for result in results:
                report.results.append(result)
                if on_progress is not None:
                    on_progress(result)

        def advance(n: int) -> None:
            if on_bytes is not None and n:
                on_bytes(n)

        def write() -> None:
            reported = 0

            def embedded(done: int, total: int) -> None:
                nonlocal reported
                now = pending_bytes * done // max(1, total)
                advance(now - reported)
                reported = now

            emit(self._write(pending, collection, embedded if on_bytes is not None else None))
            advance(pending_bytes - reported)

        for path in iter_source_files(paths):
            try:
                data = path.read_bytes()
            except OSError as exc:
                emit([IngestResult(str(path), "failed", error=f"cannot read: {exc.strerror}")])
                continue
            # The source is the file name, as for uploads; the path it was found at is kept apart.
            planned = self._plan(data, path.name, collection, metadata={"path": source_name(path)})
            if isinstance(planned, IngestResult):
                emit([planned])
                advance(len(data))
                continue
            pending.append(planned)
            pending_bytes += len(data)
            if sum(len(p.chunks) for p in pending) >= EMBED_GROUP:
                write()
                pending, pending_bytes = [], 0
        if pending:
            write()
        return report

    def _plan(
        self,
        data: bytes,
        source: str,
        collection: str,
        *,
        on_state: Callable[[DocumentState], None] | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        isolation: Isolated | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> _Planned | IngestResult:
        """Load, clean and chunk; or the final result when there is nothing to write. A file already indexed
        with this pipeline's fingerprint is known by its bytes' hash and is not parsed again."""
        path = metadata.get("path") if metadata else None
        previous = self._store.indexed_versions(collection, source, path=path if isinstance(path, str) else None)
        document_id = document_id_for(data)
        if previous.get(document_id) == self.fingerprint:
            return IngestResult(source, "unchanged", document_id)
        limits = (self._max_pages, self._max_chars, self._chunk_size, self._chunk_overlap)
        try:
            if isolation is not None:
                document, chunks = isolation.run(source, parse, data, source, limits, metadata, cancelled=cancelled)
            else:
                document, chunks = parse(data, source, limits, metadata)
        except QAError as exc:
            return IngestResult(source, "failed", document_id, error=exc.message, code=exc.code)
        if on_state is not None:
            on_state(PARSED)
            on_state(CHUNKED)
        return _Planned(document, chunks, list(previous))

    def _write(
        self, planned: list[_Planned], collection: str, on_embedded: Callable[[int, int], None] | None = None
    ) -> list[IngestResult]:
        """Embed and store; the sentences of each document (the evidence a question ranks) are embedded in the
        same calls as its chunks, so a question later embeds only itself."""
        texts = [c.search_text for p in planned for c in p.chunks]
        spans = [
            document_sentences(p.document.text, p.document.blocks) if self._sentence_vectors else [] for p in planned
        ]
        sentences = [p.document.text[a:b] for p, ss in zip(planned, spans, strict=True) for a, b in ss]
        vectors = self._embed([*texts, *sentences], len(texts), on_embedded)
        items = []
        offset, sentence_offset = 0, len(texts)
        for item, item_spans in zip(planned, spans, strict=True):
            count = len(item.chunks)
            sentence_vectors = None
            if self._sentence_vectors:
                rows = vectors[sentence_offset : sentence_offset + len(item_spans)]
                sentence_vectors = SentenceVectors(SentenceVectors.key(item_spans), rows, spans=item_spans)
                sentence_offset += len(item_spans)
            items.append(
                StoredDocument(
                    item.document,
                    item.chunks,
                    vectors[offset : offset + count],
                    replaces_chunks=item.document.id in item.previous,
                    sentence_vectors=sentence_vectors,
                )
            )
            offset += count
        self._store.put_documents(collection, items, fingerprint=self.fingerprint)
        results = []
        for item in planned:
            # Old versions go only after the new one is complete, so the source never disappears.
            replaced = [old for old in item.previous if old != item.document.id]
            for old in replaced:
                self._store.delete_document(collection, old)
            outcome: Outcome = "replaced" if replaced else "reindexed" if item.previous else "added"
            results.append(IngestResult(item.document.source, outcome, item.document.id, len(item.chunks)))
        return results

    def _embed(self, texts: list[str], chunks: int, on_embedded: Callable[[int, int], None] | None) -> Vectors:
        """Vectors of ``texts`` (the first ``chunks`` of them chunks); a large document reports how far
        embedding got, a group at a time, in chunks."""
        if on_embedded is None:
            return self._embedder.embed_texts(texts)
        parts = []
        for i in range(0, len(texts), EMBED_GROUP):
            parts.append(self._embedder.embed_texts(texts[i : i + EMBED_GROUP]))
            done = min(i + EMBED_GROUP, len(texts))
            on_embedded(chunks * done // max(1, len(texts)), chunks)
        return np.vstack(parts) if parts else self._embedder.embed_texts([])


def parse(
    data: bytes, source: str, limits: tuple[int, int, int, int], metadata: Mapping[str, MetadataValue] | None
) -> tuple[Document, list[Chunk]]:
    """Load, clean and chunk one file (``limits``: max pages, max characters, chunk size, chunk overlap):
    all the work a document's content decides the cost of, and nothing that needs the store."""
    max_pages, max_chars, chunk_size, chunk_overlap = limits
    document = prepare_document(data, source, max_pages=max_pages, max_chars=max_chars, metadata=metadata)
    return document, chunk_document(document, chunk_size=chunk_size, chunk_overlap=chunk_overlap)


@dataclass(frozen=True, slots=True)
class _Planned:
    document: Document
    chunks: list[Chunk]
    previous: list[str]


def source_name(path: Path) -> str:
    """A stable, readable path for a file: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path.resolve())
