"""Ollama's native chat API (``POST /api/chat``), spoken with httpx; no SDK needed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx

from qa_service.errors import ConfigurationError, LLMUnavailableError
from qa_service.llm.base import LLM, TransientLLMError, with_retries
from qa_service.settings import LLMSettings

DEFAULT_URL = "http://127.0.0.1:11434"
T = TypeVar("T")


class OllamaLLM(LLM):
    """A model pulled into a running Ollama (``ollama pull NAME``)."""

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.model:
            raise ConfigurationError("QA_LLM__MODEL is required for the ollama backend (e.g. smollm2:135m)")
        self._settings = settings
        self._url = (settings.base_url or DEFAULT_URL).rstrip("/")
        self._http = httpx.Client(base_url=self._url, timeout=settings.timeout_s)
        self.name = f"ollama:{settings.model}"

    def _body(self, system: str, user: str, max_tokens: int, stream: bool) -> dict[str, Any]:
        return {
            "model": self._settings.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "stream": stream,
            "options": {"num_predict": max_tokens, "temperature": self._settings.temperature, "seed": 0},
        }

    def _call(self, make: Callable[[], T]) -> T:
        def attempt() -> T:
            try:
                return make()
            except httpx.TransportError as exc:  # refused, reset, timed out
                raise TransientLLMError(f"{type(exc).__name__}: {exc}") from exc
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code == 429 or exc.response.status_code >= 500:
                    raise TransientLLMError(f"HTTP {exc.response.status_code}: {exc.response.text[:300]}") from exc
                raise LLMUnavailableError(
                    f"{self.name} refused the request: HTTP {exc.response.status_code}: {exc.response.text[:300]}"
                ) from exc

        return with_retries(
            attempt,
            what=f"Ollama at {self._url}",
            retries=self._settings.max_retries,
            backoff_s=self._settings.retry_backoff_s,
        )

    def chat(self, system: str, user: str, *, max_tokens: int) -> str:
        def post() -> dict[str, Any]:
            response = self._http.post("/api/chat", json=self._body(system, user, max_tokens, False))
            response.raise_for_status()
            return dict(response.json())

        return str(self._call(post).get("message", {}).get("content", ""))

    def stream(self, system: str, user: str, *, max_tokens: int) -> Iterator[str]:
        request = self._http.build_request("POST", "/api/chat", json=self._body(system, user, max_tokens, True))

        def open_stream() -> httpx.Response:
            response = self._http.send(request, stream=True)
            if response.is_error:
                response.read()
                response.raise_for_status()
            return response

        response = self._call(open_stream)
        try:
            for line in response.iter_lines():  # newline-delimited JSON, one object per token batch
                if line.strip():
                    part = json.loads(line)
                    if part.get("error"):
                        raise LLMUnavailableError(f"{self.name}: {part['error']}")
                    text = part.get("message", {}).get("content")
                    if text:
                        yield str(text)
        except httpx.TransportError as exc:
            raise LLMUnavailableError(f"{self.name} broke off the stream: {exc}") from exc
        finally:
            response.close()
