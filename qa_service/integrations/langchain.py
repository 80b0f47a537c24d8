"""Our retrieval as a LangChain ``BaseRetriever`` (chunks become ``Document``s with their offsets)."""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

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
