"""Parse uploads in a child process, so that a hostile document cannot stall the service.

Loading and cleaning a file is pure CPU work in Python: a document built to make it slow (a huge run of one
character, millions of tiny paragraphs) would hold the API's interpreter lock for as long as it takes, and
every route would stall with it. ``Isolated`` runs that work in one long-lived child process instead:
- a wall-clock limit per document (the document ends ``failed`` with ``too_complex``; the child is killed
  and a fresh one starts for the next document);
- an address-space limit on the child (``MemoryError`` or a killed child end the document ``too_complex``);
- cancellation: a document deleted while it is parsed has its child killed at once.
The child is a fresh interpreter (``python -m qa_service.ingest.isolation FD``) that talks over a socket
pair: it shares nothing with the API's threads and never re-runs the parent's main module.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from qa_service.errors import QAError, UnsupportedDocumentError

T = TypeVar("T")
_POLL_S = 0.1
_START_S = 60.0


class Cancelled(Exception):
    """The document was deleted while its child worked."""


@dataclass(frozen=True, slots=True)
class ParseLimits:
    seconds: float = 300.0  # wall-clock time to load, clean and chunk one document
    memory_mb: int = 3072  # the child's address space


def _serve(conn: Connection, memory_mb: int) -> None:  # pragma: no cover - runs in the child process
    import resource

    import qa_service.ingest.pipeline  # noqa: F401 - imported before the clock starts, not on the first document

    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        function, args, kwargs = job
        try:
            conn.send(("ok", function(*args, **kwargs)))
        except QAError as exc:
            conn.send(("qa", (exc.message, exc.code)))
        except MemoryError:
            conn.send(("memory", None))


class Isolated:
    """Runs a function in the child process, under ``limits``; one call at a time."""

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: Connection | None = None
        self._closing = False

    def run(self, what: str, function: Callable[..., T], *args: Any, cancelled: Callable[[], bool] = lambda: False,
            **kwargs: Any) -> T:  # fmt: skip
        """``function(*args, **kwargs)`` in the child. ``QAError``s it raises are raised here again;
        ``UnsupportedDocumentError`` (``too_complex``) when it runs past the limits; ``Cancelled`` when
        ``cancelled()`` turns true meanwhile. ``what`` names the work in messages."""
        with self._lock:
            self._closing = False
            conn = self._connection()
            conn.send((function, args, kwargs))
            deadline = time.monotonic() + self.limits.seconds
            while not conn.poll(_POLL_S):
                if cancelled() or self._closing:
                    self._kill()
                    raise Cancelled(what)
                if time.monotonic() > deadline:
                    self._kill()
                    raise UnsupportedDocumentError(
                        f"{what}: not parsed within {self.limits.seconds:.0f} s; the document is too complex",
                        code="too_complex",
                    )
                if self._process.poll() is not None:
                    break
            try:
                status, value = conn.recv()
            except (EOFError, OSError):  # the child died: killed by the kernel, most likely for memory
                self._kill()
                if self._closing:  # at shutdown: the document stays unfinished, the next start resumes it
                    raise Cancelled(what) from None
                status, value = "memory", None
            if status == "memory":
                self._kill()  # the child's heap is spent: the next document gets a fresh one
        if status == "ok":
            return value  # type: ignore[no-any-return]
        if status == "qa":
            message, code = value
            raise UnsupportedDocumentError(message, code=code)
        raise UnsupportedDocumentError(
            f"{what}: parsing needs more than {self.limits.memory_mb} MB; the document is too complex",
            code="too_complex",
        )

    def _connection(self) -> Connection:
        if self._process is None or self._process.poll() is not None:
            self._kill()
            parent, child = Pipe()
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(child.fileno()), str(self.limits.memory_mb)],
                pass_fds=[child.fileno()],
                stdin=subprocess.DEVNULL,
            )
            child.close()
            self._conn = parent
            if not parent.poll(_START_S) or parent.recv()[0] != "ready":  # a start-up's imports are not parsing
                self._kill()
                raise RuntimeError("the parsing process did not start")
        assert self._conn is not None
        return self._conn

    def _kill(self) -> None:
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait(5)
            self._process = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        """Stop the child; a document it is parsing stays unfinished (``Cancelled``)."""
        self._closing = True
        if self._lock.acquire(timeout=1.0):
            try:
                self._kill()
            finally:
                self._lock.release()


if __name__ == "__main__":  # pragma: no cover - the child process
    _serve(Connection(int(sys.argv[1])), int(sys.argv[2]))
