"""LLM backends behind a one-method contract, built by one factory keyed by settings."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from pathlib import Path

from qa_service.errors import LLMUnavailableError
from qa_service.settings import LLMSettings


class LLM(ABC):
    """Completes a chat turn (system + user message) into text."""

    name: str = "llm"

    @abstractmethod
    def chat(self, system: str, user: str, *, max_tokens: int) -> str:
        """Return the assistant's reply."""


class LlamaCppLLM(LLM):
    """A GGUF model run in-process by llama.cpp; loaded on first use, one call at a time."""

    def __init__(self, settings: LLMSettings) -> None:
        self._settings = settings
        self._model: object | None = None
        self._lock = threading.Lock()
        self.name = "llama.cpp"

    def _load(self) -> object:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise LLMUnavailableError("llama-cpp-python is not installed: pip install llama-cpp-python") from exc
        path = self._settings.resolved_model_path()
        if not Path(path).is_file():
            raise LLMUnavailableError(f"no GGUF model at {path}: set QA_LLM__MODEL_PATH to a .gguf file")
        try:
            return Llama(
                model_path=path,
                n_ctx=self._settings.context_size,
                n_threads=self._settings.threads,
                seed=0,
                verbose=False,
            )
        except (ValueError, OSError) as exc:
            raise LLMUnavailableError(f"cannot load the GGUF model at {path}: {exc}") from exc

    def chat(self, system: str, user: str, *, max_tokens: int) -> str:
        with self._lock:
            if self._model is None:
                self._model = self._load()
            try:
                reply = self._model.create_chat_completion(  # type: ignore[attr-defined]
                    messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                    max_tokens=max_tokens,
                    temperature=self._settings.temperature,
                )
            except (ValueError, RuntimeError) as exc:  # e.g. the prompt exceeds the context window
                raise LLMUnavailableError(f"the model could not answer: {exc}") from exc
        return str(reply["choices"][0]["message"]["content"] or "")


class TestLLM(LLM):
    """Replies with a fixed text from settings; lets tests drive verification without a model."""

    __test__ = False  # not a pytest class

    def __init__(self, reply: str) -> None:
        self._reply = reply
        self.name = "test"

    def chat(self, system: str, user: str, *, max_tokens: int) -> str:
        return self._reply


def build_llm(settings: LLMSettings) -> LLM | None:
    """The configured backend, or None when ``backend == "none"``."""
    if settings.backend == "embedded":
        return LlamaCppLLM(settings)
    if settings.backend == "test":
        return TestLLM(settings.test_reply)
    return None
