"""``QAServiceRetriever`` against LangChain's standard retriever suite (``langchain-tests``), the contract
every LangChain retriever integration must pass; over the real seeded Chroma and embedding model, in-process
and over HTTP from a real ``qa-service serve``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from qa_service.client import QAServiceHTTPError
from qa_service.integrations.langchain import QAServiceHTTPRetriever, QAServiceRetriever
from qa_service.retrieval import HybridRetriever
from qa_service.services import Services
from tests.conftest import SEED_FILE
from tests.servers import ServerProcess

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


@pytest.fixture(scope="module")
def served_seed(seeded_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``qa-service serve`` process on loopback over a copy of the seeded data dir."""
    root = tmp_path_factory.mktemp("http-retriever")
    shutil.copytree(seeded_dir, root / "data")
    server = ServerProcess(root / "data", root / "server.log", env={"QA_LIMITS__REQUESTS_PER_MINUTE": "0"})
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


class TestHTTPRetrieverStandard(RetrieversIntegrationTests):
    """``QAServiceHTTPRetriever`` against a running server: the retriever an application developer has."""

    url = ""

    @pytest.fixture(autouse=True)
    def _served(self, served_seed: str) -> None:
        type(self).url = served_seed

    @property
    def retriever_constructor(self) -> type[QAServiceHTTPRetriever]:
        return QAServiceHTTPRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"url": self.url, "collection": "default"}

    @property
    def retriever_query_example(self) -> str:
        return QUESTION

    def test_answer_chunk_comes_first(self, retriever: QAServiceHTTPRetriever) -> None:
        first = retriever.invoke(QUESTION, k=2)[0]
        assert "215 Druze civilians" in first.page_content
        assert first.metadata["source"] == SEED_FILE.name
        text = retriever.client.document_text(first.metadata["document_id"])
        assert text[first.metadata["start"] : first.metadata["end"]] == first.page_content

    def test_errors_carry_the_service_code(self, retriever: QAServiceHTTPRetriever) -> None:
        with pytest.raises(QAServiceHTTPError) as raised:
            retriever.invoke(QUESTION, collection="no-such-collection")
        assert raised.value.status == 404 and raised.value.code == "collection_not_found"
