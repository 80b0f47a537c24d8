"""Any OpenAI-compatible chat completions server: OpenAI, vLLM, llama.cpp's server, LM Studio, Ollama's /v1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from qa_service.errors import ConfigurationError, LLMUnavailableError
from qa_service.llm.base import LLM, TransientLLMError, with_retries
from qa_service.settings import LLMSettings

T = TypeVar("T")


class OpenAICompatibleLLM(LLM):
    """Chat completions through the official ``openai`` client; our retry policy, not the client's."""

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.model:
            raise ConfigurationError("QA_LLM__MODEL is required for the openai backend (the served model's name)")
        try:
            import openai
        except ImportError as exc:
            hint = "pip install 'qa-service[remote]'"
            raise ConfigurationError(f"the openai backend needs the openai package: {hint}") from exc
        self._openai = openai
        self._settings = settings
        self._model = settings.model
        self._client = openai.OpenAI(
            base_url=settings.base_url,  # None: api.openai.com
            api_key=settings.api_key or "not-needed",  # local servers ignore it; the client insists on one
            timeout=settings.timeout_s,
            max_retries=0,
        )
        self.name = f"openai:{settings.model}"

    def _call(self, make: Callable[[], T]) -> T:
        errors = self._openai

        def attempt() -> T:
            try:
                return make()
            except (errors.APIConnectionError, errors.RateLimitError, errors.InternalServerError) as exc:
                # APITimeoutError is an APIConnectionError: timeouts are retried too.
                raise TransientLLMError(_describe(exc)) from exc
            except errors.APIStatusError as exc:  # 4xx: a wrong model name, key or request; retrying won't help
                raise LLMUnavailableError(f"{self.name} refused the request: {_describe(exc)}") from exc

        return with_retries(
            attempt,
            what=f"the LLM server at {self._client.base_url}",
            retries=self._settings.max_retries,
            backoff_s=self._settings.retry_backoff_s,
        )

    def _request(self, system: str, user: str, max_tokens: int, stream: bool) -> Any:
        return self._client.chat.completions.create(
            model=self._model,
            messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            max_tokens=max_tokens,
            temperature=self._settings.temperature,
            stream=stream,
        )

    def chat(self, system: str, user: str, *, max_tokens: int) -> str:
        reply = self._call(lambda: self._request(system, user, max_tokens, False))
        if not reply.choices:
            raise LLMUnavailableError(f"{self.name} returned no choices")
        return str(reply.choices[0].message.content or "")

    def stream(self, system: str, user: str, *, max_tokens: int) -> Iterator[str]:
        # Retries cover opening the stream; a stream that breaks midway is an error, not a silent retry
        # (the caller has already seen part of the reply).
        chunks = self._call(lambda: self._request(system, user, max_tokens, True))
        try:
            for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield str(chunk.choices[0].delta.content)
        except self._openai.OpenAIError as exc:
            raise LLMUnavailableError(f"{self.name} broke off the stream: {_describe(exc)}") from exc


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}{f' {status}' if status else ''}: {str(exc)[:300]}"
