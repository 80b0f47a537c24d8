"""``QAServiceRetriever`` against LangChain's standard retriever suite (``langchain-tests``), the contract
every LangChain retriever integration must pass; over the real seeded Chroma and embedding model."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from qa_service.integrations.langchain import QAServiceRetriever
from qa_service.retrieval import HybridRetriever
from qa_service.services import Services

QUESTION = "How many Druze civilians were killed in Sweida?"


class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    hybrid: HybridRetriever | None = None
    mode = "hybrid"

    @pytest.fixture(autouse=True)
    def _seeded(self, seeded_services: Services) -> None:
        type(self).hybrid = seeded_services.retriever

    @property
    def retriever_constructor(self) -> type[QAServiceRetriever]:
        return QAServiceRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"retriever": self.hybrid, "collection": "default", "mode": self.mode}

    @property
    def retriever_query_example(self) -> str:
        return QUESTION

    def test_answer_chunk_comes_first(self, retriever: QAServiceRetriever) -> None:
        """Beyond the standard suite: the documents are our chunks, with offsets into the document text."""
        first = retriever.invoke(QUESTION, k=2)[0]
        assert "215 Druze civilians" in first.page_content
        assert first.metadata["end"] - first.metadata["start"] == len(first.page_content)


class TestDenseRetrieverStandard(TestHybridRetrieverStandard):
    mode = "dense"
