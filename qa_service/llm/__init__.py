"""LLM backends behind a one-method contract (``LLM.chat``), built by one factory keyed by settings."""

from __future__ import annotations

from qa_service.llm.base import LLM
from qa_service.llm.llamacpp import LlamaCppLLM
from qa_service.llm.testing import TestLLM
from qa_service.settings import LLMSettings

__all__ = ["LLM", "LlamaCppLLM", "TestLLM", "build_llm"]


def build_llm(settings: LLMSettings) -> LLM | None:
    """The configured backend, or None when ``backend == "none"``. Remote SDKs are imported only when chosen."""
    if settings.backend == "embedded":
        return LlamaCppLLM(settings)
    if settings.backend == "openai":
        from qa_service.llm.openai_compat import OpenAICompatibleLLM

        return OpenAICompatibleLLM(settings)
    if settings.backend == "ollama":
        from qa_service.llm.ollama import OllamaLLM

        return OllamaLLM(settings)
    if settings.backend == "test":
        return TestLLM(settings.test_reply)
    return None
