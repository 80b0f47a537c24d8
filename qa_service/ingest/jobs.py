"""Background ingestion of uploads: spooled to disk first, processed by worker threads, resumed after a crash.

An upload is answered at once (202): its bytes are written to ``spool/<collection>/<id>`` and its
record is created as ``received``. A worker then parses, chunks and embeds it; the store flips it to
``ready`` only when all its chunks are written. If the process dies midway, ``recover()`` at the next
start removes the partial chunks and queues the document again from its spooled bytes (or marks it
``failed`` when they are gone), so every document ends ``ready`` with all its chunks, or ``failed``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_delay, stop_any, wait_exponential
from tenacity.stop import stop_base

from qa_service.domain import MetadataValue
from qa_service.errors import NotFoundError, StoreUnavailableError
from qa_service.ingest.isolation import Cancelled
from qa_service.ingest.pipeline import Ingestor
from qa_service.ingest.uploads import SpooledUpload
from qa_service.store import FAILED, IN_PROGRESS, READY, RECEIVED, ChromaStore, DocumentInfo
from qa_service.store.integrity import remove_orphan_records

log = logging.getLogger("qa_service.ingest")
_STOP = ("", "", "")


@dataclass(frozen=True, slots=True)
class Submission:
    """What an upload became: the document id and its state right after submission."""

    document_id: str
    source: str
    state: str
    queued: bool  # False when the same content was already ready or already in progress


class IngestionQueue:
    """Owns the upload spool and the ingestion worker threads."""

    def __init__(
        self,
        *,
        store: ChromaStore,
        ingestor: Ingestor,
        spool_dir: Path,
        dimension: int,
        workers: int = 1,
        stale_after: float = 900.0,
        store_retry_s: float = 3600.0,
        store_backoff_max_s: float = 30.0,
    ) -> None:
        self._store = store
        self._ingestor = ingestor
        self._spool = spool_dir
        self._dimension = dimension
        self._workers = workers
        self._stale_after = stale_after
        self._queue: queue.Queue[tuple[str, str, str]] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._cancelled: set[tuple[str, str]] = set()
        self._pending: set[tuple[str, str]] = set()  # queued or being processed by this process
        self._stopping = threading.Event()
        self._store_retry_s = store_retry_s
        self._store_backoff_max_s = store_backoff_max_s
        self._lock = threading.Lock()
        self._node = _node_id(spool_dir)
        self.owner = f"{self._node}:{os.getpid()}"

    @property
    def depth(self) -> int:
        """Documents waiting for a worker."""
        return self._queue.qsize()

    def start(self) -> None:
        if self._threads:
            return
        self._stopping.clear()
        for i in range(self._workers):
            thread = threading.Thread(target=self._work, name=f"ingest-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()  # ends a worker's wait for the store to come back
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        self._ingestor.close()

    @property
    def incoming_dir(self) -> Path:
        """Where uploads are written while they arrive (same file system as the spool: a rename moves them)."""
        return self._spool / ".incoming"

    def submit(
        self, collection: str, upload: SpooledUpload, metadata: Mapping[str, MetadataValue] | None = None
    ) -> Submission:
        """Move the spooled upload into place and queue the document, unless the same content is already
        there (then the upload's file is dropped). ``metadata`` (tags...) is stored with the record at once,
        so it survives a crash before ingestion."""
        document_id, source = upload.document_id, upload.source
        existing = self._store.find_document(collection, document_id)
        if existing is not None and (existing.state == READY or self._in_hand(collection, existing)):
            upload.path.unlink(missing_ok=True)
            return Submission(document_id, existing.source, existing.state, queued=False)
        path = self._spool_path(collection, document_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        upload.path.replace(path)  # atomic: a spooled file is always complete
        self._store.register_document(
            collection,
            document_id,
            source=source,
            size=upload.size,
            dimension=self._dimension,
            owner=self.owner,
            metadata=metadata,
        )
        with self._lock:
            self._cancelled.discard((collection, document_id))
        self._enqueue(collection, document_id, source)
        return Submission(document_id, source, RECEIVED, queued=True)

    def reindex(self, collection: str, document_id: str) -> Submission:
        """Queue a document again: from its spooled bytes when kept (a store outage failed it), else its stored
        text."""
        info = self._store.document_info(collection, document_id)
        if self._in_hand(collection, info):
            return Submission(document_id, info.source, info.state, queued=False)
        if not self._can_process(collection, document_id):
            raise NotFoundError(
                f"document {document_id!r} failed and its upload is gone; upload it again", code="upload_missing"
            )
        self._store.set_state(collection, document_id, RECEIVED, owner=self.owner)
        self._enqueue(collection, document_id, info.source)
        return Submission(document_id, info.source, RECEIVED, queued=True)

    def _in_hand(self, collection: str, info: DocumentInfo) -> bool:
        """In progress and someone is on it: queued here, or owned by another live process. A document this
        process holds in no queue (its job was lost) is stuck, and may be queued again."""
        if info.state not in IN_PROGRESS:
            return False
        with self._lock:
            if (collection, info.id) in self._pending:
                return True
        return not self._owner_is_gone(info.owner)

    def _enqueue(self, collection: str, document_id: str, source: str) -> None:
        with self._lock:
            self._pending.add((collection, document_id))
        self._queue.put((collection, document_id, source))

    def delete(self, collection: str, document_id: str) -> None:
        """Remove a document everywhere; a worker busy with it drops its result."""
        self._store.document_info(collection, document_id)  # 404 when unknown
        with self._lock:
            self._cancelled.add((collection, document_id))
        self._store.delete_document(collection, document_id)
        self._drop_spool(collection, document_id)

    def recover(self) -> list[DocumentInfo]:
        """After a crash: take over unfinished documents whose ingesting process is gone (requeue them, or
        fail them when they cannot be processed again) and drop chunks left by failed or deleted ones.
        Documents of a live process (another uvicorn worker, another replica) are left alone. Returns
        the documents taken over."""
        recovered = []
        with _exclusive(self._spool / ".recover.lock"):  # workers starting together must not both take over
            for collection in self._store.collection_names():
                for info in self._store.unfinished_documents(collection):
                    if not self._owner_is_gone(info.owner) and time.time() - info.updated_at < self._stale_after:
                        continue
                    recovered.append(info)
                    if self._can_process(collection, info.id):
                        self._store.set_state(collection, info.id, RECEIVED, owner=self.owner)
                        self._enqueue(collection, info.id, info.source)
                        log.warning("resuming ingestion of %s (%s) in %r", info.source, info.id, collection)
                    else:
                        self._store.set_state(collection, info.id, FAILED, error="interrupted; upload it again")
                removed = remove_orphan_records(self._store, collection)
                if removed:
                    log.warning("removed %d orphan chunks and sentence-vector records from %r", removed, collection)
        return recovered

    def _owner_is_gone(self, owner: str) -> bool:
        """True for this node's dead processes (and unowned records); False for live ones and other nodes
        (whose work is taken over only once it has made no progress for ``stale_after`` seconds)."""
        if not owner:
            return True
        node, _, pid = owner.rpartition(":")
        if node != self._node or not pid.isdigit():
            return False  # another replica's upload: its spool is on its disk, its restart recovers it
        if int(pid) == os.getpid():
            return True
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def _can_process(self, collection: str, document_id: str) -> bool:
        """Its upload is still spooled, or its cleaned text is stored (so it can be chunked again)."""
        if self._spool_path(collection, document_id).exists():
            return True
        return bool(self._store.get_document(collection, document_id).text)

    def _work(self) -> None:
        while True:
            collection, document_id, source = self._queue.get()
            if (collection, document_id, source) == _STOP:
                return
            try:
                self._process_retrying(collection, document_id, source)
            except Cancelled:  # deleted while parsed or embedded, or shutting down: nothing was written
                log.info("ingestion of %s stopped (deleted, or the service stops)", source)
            except StoreUnavailableError:
                if not self._stopping.is_set():  # at shutdown the record stays unfinished: the next start resumes it
                    log.error("ingestion of %s stopped: the store stayed unavailable", source)
                    self._fail(collection, document_id, "the vector store stayed unavailable; reindex it")
            except Exception as exc:  # a worker must survive anything one document does
                log.exception("ingestion of %s failed", source)
                self._fail(collection, document_id, f"internal error: {type(exc).__name__}")
            finally:
                with self._lock:
                    self._pending.discard((collection, document_id))
                self._queue.task_done()

    def _process_retrying(self, collection: str, document_id: str, source: str) -> None:
        """``_process``, again with backoff while the store is unavailable: the document resumes by itself
        when the store is back (its spooled bytes are kept until it is ready)."""

        def pause(seconds: float) -> None:
            self._stopping.wait(seconds)

        def log_retry(state: RetryCallState) -> None:
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning("store unavailable while ingesting %s; retrying in %.1f s", source, wait)

        retrying = Retrying(
            retry=retry_if_exception_type(StoreUnavailableError),
            wait=wait_exponential(multiplier=0.5, max=self._store_backoff_max_s),
            stop=stop_any(stop_after_delay(self._store_retry_s), _StopWhenSet(self._stopping)),
            sleep=pause,
            before_sleep=log_retry,
            reraise=True,
        )
        retrying(self._process, collection, document_id, source)

    def _process(self, collection: str, document_id: str, source: str) -> None:
        if self._is_cancelled(collection, document_id):
            return
        path = self._spool_path(collection, document_id)
        if path.exists():
            registered = self._store.find_document(collection, document_id)
            result = self._ingestor.ingest_bytes(
                path.read_bytes(),
                source,
                collection=collection,
                metadata=registered.metadata if registered is not None else None,
                on_state=lambda state: self._store.set_state(collection, document_id, state),
                on_embedded=lambda done, total: self._embedded(collection, document_id, done, total),
                cancelled=lambda: self._is_cancelled(collection, document_id),
            )
        else:  # a re-index of a document whose bytes were not kept: its stored text is the source
            result = self._ingestor.reindex_document(collection, document_id)
        if self._is_cancelled(collection, document_id):  # deleted while we worked: take back what we wrote
            self._store.delete_document(collection, document_id)
            return
        if result.outcome == "failed":
            error = result.error or "failed"
            self._fail(collection, document_id, f"{result.code}: {error}" if result.code else error)
            self._drop_spool(collection, document_id)  # its bytes cannot become a document: upload anew
            return
        if result.outcome == "unchanged":
            self._store.set_state(collection, document_id, READY)
        self._drop_spool(collection, document_id)
        log.info("ingested %s into %r: %s, %d chunks", source, collection, result.outcome, result.chunks)

    def _embedded(self, collection: str, document_id: str, done: int, total: int) -> None:
        """Embedding progress; a document deleted meanwhile stops here, before anything is written."""
        if self._is_cancelled(collection, document_id):
            raise Cancelled(document_id)
        self._store.set_progress(collection, document_id, embedded=done, chunks=total)

    def _is_cancelled(self, collection: str, document_id: str) -> bool:
        with self._lock:
            return (collection, document_id) in self._cancelled

    def _fail(self, collection: str, document_id: str, error: str) -> None:
        try:
            if self._store.find_document(collection, document_id) is not None:
                self._store.set_state(collection, document_id, FAILED, error=error[:500])
        except StoreUnavailableError:  # the record stays in progress; recovery or a reindex takes it up
            log.error("cannot mark %s failed: the store is unavailable", document_id)

    def _spool_path(self, collection: str, document_id: str) -> Path:
        return self._spool / collection / document_id

    def _drop_spool(self, collection: str, document_id: str) -> None:
        self._spool_path(collection, document_id).unlink(missing_ok=True)

    def wait_idle(self) -> None:
        """Block until every queued document is processed (tests, the CLI)."""
        self._queue.join()


class _StopWhenSet(stop_base):
    """Stop retrying once the queue is stopping (shutdown must not wait for the store)."""

    def __init__(self, event: threading.Event) -> None:
        self._event = event

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self._event.is_set()


def _node_id(spool: Path) -> str:
    """A stable id for this data directory (one node): the spool and the records it owns belong together."""
    spool.mkdir(parents=True, exist_ok=True)
    path = spool / ".node-id"
    if not path.exists():
        tmp = spool / f".node-id.{os.getpid()}.tmp"
        tmp.write_text(uuid.uuid4().hex[:12], encoding="utf-8")
        try:
            os.link(tmp, path)  # atomic, and the first process to get there wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text(encoding="utf-8").strip()


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
