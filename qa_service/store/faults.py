"""Chroma faults, typed: a server that does not answer is ``StoreUnavailableError`` (transient, 503), never
a 500 and never "not found". Every call the store makes goes through ``guard``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from qa_service.errors import StoreUnavailableError


def is_transient(exc: BaseException) -> bool:
    """Connection refused or reset, a timeout, or a 5xx from the server (it is restarting, overloaded)."""
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code >= 500


class Guarded:
    """A Chroma client or collection whose calls raise ``StoreUnavailableError`` on transient faults; the
    collections it returns are guarded too."""

    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute
        return _guarded_call(attribute)


def guard(target: Any) -> Any:
    return target if isinstance(target, Guarded) else Guarded(target)


def _guarded_call(method: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            result = method(*args, **kwargs)
        except Exception as exc:
            if is_transient(exc):
                raise StoreUnavailableError(f"the vector store is unavailable: {type(exc).__name__}") from exc
            raise
        return Guarded(result) if _is_collection(result) else result

    return call


def _is_collection(value: Any) -> bool:
    from chromadb.api.models.Collection import Collection

    return isinstance(value, Collection)
