"""Our retrieval as LangChain ``BaseRetriever``s (chunks become ``Document``s with their offsets): in-process
(``QAServiceRetriever``, for embedding the service) or from a running server (``QAServiceHTTPRetriever``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr, SecretStr

from qa_service.client import QAServiceClient

if TYPE_CHECKING:  # the HTTP retriever needs none of the service's own machinery
    from qa_service.retrieval import HybridRetriever


class QAServiceRetriever(BaseRetriever):
    """Hybrid (dense + BM25, fused as settings say) or dense-only retrieval over one collection."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any  # HybridRetriever; Any keeps pydantic from validating a non-pydantic class
    collection: str = "default"
    k: int = 4
    mode: Literal["hybrid", "dense"] = "hybrid"

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[LCDocument]:
        hybrid: HybridRetriever = self.retriever
        k = int(kwargs.get("k", self.k))
        if self.mode == "dense":
            hits = hybrid.retrieve_dense(query, collection=self.collection, top_k=k)
        else:
            hits = hybrid.retrieve(query, collection=self.collection, top_k=k)
        return [
            LCDocument(
                id=hit.chunk.id,
                page_content=hit.chunk.text,
                metadata={
                    "document_id": hit.chunk.document_id,
                    "source": hit.chunk.source,
                    "start": hit.chunk.start,
                    "end": hit.chunk.end,
                    "page": hit.chunk.page,
                    "score": hit.score,
                },
            )
            for hit in hits
        ]


class QAServiceHTTPRetriever(BaseRetriever):
    """Retrieval from a running qa-service over HTTP (``POST /retrieve``): what an application that does
    not embed the service uses. ``QAServiceHTTPRetriever(url="http://127.0.0.1:8000", api_key=...)``."""

    url: str
    api_key: SecretStr | None = None
    collection: str | None = None
    k: int = 4
    mode: Literal["hybrid", "dense"] = "hybrid"
    document_ids: list[str] | None = None
    sources: list[str] | None = None
    filter: dict[str, Any] | None = None
    timeout: float = 120.0
    _client: QAServiceClient | None = PrivateAttr(default=None)

    @property
    def client(self) -> QAServiceClient:
        if self._client is None:
            key = self.api_key.get_secret_value() if self.api_key is not None else None
            self._client = QAServiceClient(self.url, api_key=key, timeout=self.timeout)
        return self._client

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[LCDocument]:
        items = self.client.retrieve(
            query,
            k=int(kwargs.get("k", self.k)),
            collection=kwargs.get("collection", self.collection),
            mode=kwargs.get("mode", self.mode),
            document_ids=kwargs.get("document_ids", self.document_ids),
            sources=kwargs.get("sources", self.sources),
            filter=kwargs.get("filter", self.filter),
        )
        return [
            LCDocument(
                id=item["id"],
                page_content=item["text"],
                metadata={k: item[k] for k in ("document_id", "source", "title", "start", "end", "page", "score")},
            )
            for item in items
        ]
