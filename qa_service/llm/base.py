"""The LLM contract (one abstract method) and the retry policy shared by the remote backends (tenacity)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

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

    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning("%s failed (%s); retry %d/%d in %.1fs", what, exc, state.attempt_number, retries, delay)

    retrying = Retrying(
        retry=retry_if_exception_type(TransientLLMError),
        stop=stop_after_attempt(retries + 1),
        wait=wait_exponential(multiplier=backoff_s, exp_base=2, min=0),
        before_sleep=log_retry,
        reraise=True,
    )
    try:
        return retrying(call)
    except TransientLLMError as exc:
        tries = f"{retries + 1} attempt{'s' if retries else ''}"
        raise LLMUnavailableError(f"{what} did not answer after {tries}: {exc}") from exc
