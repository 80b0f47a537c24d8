"""A GGUF model run in-process by llama.cpp."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa_service.errors import LLMUnavailableError
from qa_service.llm.base import LLM
from qa_service.settings import LLMSettings


class LlamaCppLLM(LLM):
    """Loaded on first use, one call at a time."""

    def __init__(self, settings: LLMSettings) -> None:
        self._settings = settings
        self._model: Any = None
        self._lock = threading.Lock()
        self.name = "llama.cpp"

    def _load(self) -> Any:
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

    def _complete(self, system: str, user: str, max_tokens: int, stream: bool) -> Any:
        if self._model is None:
            self._model = self._load()
        try:
            return self._model.create_chat_completion(
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                max_tokens=max_tokens,
                temperature=self._settings.temperature,
                stream=stream,
            )
        except (ValueError, RuntimeError) as exc:  # e.g. the prompt exceeds the context window
            raise LLMUnavailableError(f"the model could not answer: {exc}") from exc

    def chat(self, system: str, user: str, *, max_tokens: int) -> str:
        with self._lock:
            reply = self._complete(system, user, max_tokens, stream=False)
        return str(reply["choices"][0]["message"]["content"] or "")

    def stream(self, system: str, user: str, *, max_tokens: int) -> Iterator[str]:
        with self._lock:
            for part in self._complete(system, user, max_tokens, stream=True):
                text = part["choices"][0]["delta"].get("content")
                if text:
                    yield str(text)
