"""The LLM contract (one abstract method) and the retry policy shared by the remote backends."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import TypeVar

from qa_service.errors import LLMUnavailableError

log = logging.getLogger("qa_service.llm")
T = TypeVar("T")


class LLM(ABC):
    """Completes a chat turn (system + user message) into text."""

    name: str = "llm"

    @abstractmethod
    def chat(self, system: str, user: str, *, max_tokens: int) -> str:
        """Return the assistant's reply."""

    def stream(self, system: str, user: str, *, max_tokens: int) -> Iterator[str]:
        """The reply as it is generated; backends that cannot stream yield it whole."""
        yield self.chat(system, user, max_tokens=max_tokens)


class TransientLLMError(Exception):
    """A failure worth retrying (connection refused or reset, timeout, 429, 5xx)."""


def with_retries(call: Callable[[], T], *, what: str, retries: int, backoff_s: float) -> T:
    """Run ``call``, retrying ``TransientLLMError`` up to ``retries`` times with exponential backoff
    (backoff_s, 2 * backoff_s, ...); the last failure becomes an ``LLMUnavailableError`` (HTTP 503)."""
    for attempt in range(retries + 1):
        try:
            return call()
        except TransientLLMError as exc:
            if attempt == retries:
                tries = f"{retries + 1} attempt{'s' if retries else ''}"
                raise LLMUnavailableError(f"{what} did not answer after {tries}: {exc}") from exc
            delay = backoff_s * 2**attempt
            log.warning("%s failed (%s); retry %d/%d in %.1fs", what, exc, attempt + 1, retries, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")  # the loop returns or raises
