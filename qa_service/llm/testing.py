"""The ``test`` backend: a fixed reply from settings, so tests drive verification without a model."""

from __future__ import annotations

from qa_service.llm.base import LLM


class TestLLM(LLM):
    """Replies with a fixed text."""

    __test__ = False  # not a pytest class

    def __init__(self, reply: str) -> None:
        self._reply = reply
        self.name = "test"

    def chat(self, system: str, user: str, *, max_tokens: int) -> str:
        return self._reply
