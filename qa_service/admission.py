"""Admission control: a per-caller rate limit and a bounded queue for LLM generation.

Both are per process (each API replica enforces its own); both answer "not now" with a wait in
seconds instead of letting work pile up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from qa_service.errors import RateLimitedError, RetryLaterError


class RateLimiter:
    """Token bucket per caller: ``per_minute`` requests a minute, bursts up to the same number."""

    def __init__(self, per_minute: int, *, max_callers: int = 10_000) -> None:
        self._rate = per_minute / 60.0
        self._capacity = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}  # caller -> (tokens, last refill)
        self._max_callers = max_callers
        self._lock = threading.Lock()

    def check(self, caller: str) -> None:
        """Take one token for ``caller`` or raise ``RateLimitedError`` saying when one will be there."""
        if self._rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(caller, (self._capacity, now))
            tokens = min(self._capacity, tokens + (now - last) * self._rate)
            if tokens < 1.0:
                self._buckets[caller] = (tokens, now)
                wait = (1.0 - tokens) / self._rate
                raise RateLimitedError(
                    f"rate limit of {int(self._capacity)} requests a minute reached", retry_after=wait
                )
            if len(self._buckets) >= self._max_callers and caller not in self._buckets:
                self._buckets.clear()  # bounded memory; forgetting buckets only ever lets callers in
            self._buckets[caller] = (tokens - 1.0, now)


class GenerationGate:
    """At most ``capacity`` LLM generations running, waiting or reserved; the next one is told to come back.

    A stream reserves its slot before its first byte (its status line cannot turn into a 503 later) and
    enters it when the work starts; a reservation never entered (the client left first) lapses after
    ``hold_s`` seconds, so a slot cannot leak."""

    def __init__(self, capacity: int, *, retry_after: float = 2.0, hold_s: float = 30.0) -> None:
        self._capacity = capacity
        self._retry_after = retry_after
        self._hold_s = hold_s
        self._inside = 0
        self._reserved: dict[object, float] = {}  # reservation token -> when it lapses (monotonic)
        self._lock = threading.Lock()

    @property
    def depth(self) -> int:
        with self._lock:
            self._prune()
            return self._inside + len(self._reserved)

    def check(self) -> None:
        """Refuse now, before a response starts (a stream cannot change its status later)."""
        with self._lock:
            self._refuse_if_full()

    def reserve(self) -> object:
        """Hold a slot for work that starts shortly, or raise ``RetryLaterError`` at once."""
        with self._lock:
            self._refuse_if_full()
            token = object()
            self._reserved[token] = time.monotonic() + self._hold_s
            return token

    @contextmanager
    def slot(self, reservation: object | None = None) -> Iterator[None]:
        with self._lock:
            if reservation is None or self._reserved.pop(reservation, None) is None:
                self._refuse_if_full()
            self._inside += 1
        try:
            yield
        finally:
            with self._lock:
                self._inside -= 1

    def _prune(self) -> None:
        now = time.monotonic()
        for token in [t for t, lapses in self._reserved.items() if lapses <= now]:
            del self._reserved[token]

    def _refuse_if_full(self) -> None:
        self._prune()
        busy = self._inside + len(self._reserved)
        if busy >= self._capacity:
            raise RetryLaterError(
                f"{busy} answers are already being generated; try again shortly",
                retry_after=self._retry_after,
                code="generation_queue_full",
            )
