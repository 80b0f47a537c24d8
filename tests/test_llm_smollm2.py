"""The real SmolLM2-135M through llama.cpp, end to end through the answerer."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.llm import LlamaCppLLM
from qa_service.services import build_services
from qa_service.settings import LLMSettings
from tests.conftest import check_llm_answers, make_settings

pytestmark = pytest.mark.llm


def test_packaged_gguf_loads_and_generates() -> None:
    llm = LlamaCppLLM(LLMSettings())
    reply = llm.chat("You are terse.", "Say the word: hello", max_tokens=8)
    assert reply.strip()


def test_generative_mode_runs_the_model_and_never_returns_unverified_text(
    seeded_dir: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = make_settings(seeded_dir, llm={"backend": "embedded"})
    answerer = build_services(settings, embedder=embedder).answerer
    check_llm_answers(answerer, "How many Druze civilians were killed in Sweida?")
