"""POST /retrieve: the ranked chunks a question would draw on, without an answer (for remote retrievers)."""

from __future__ import annotations

from typing import Literal

import anyio
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from qa_service.api.deps import ReaderDep, ServicesDep, resolve_collection
from qa_service.api.schemas import COMMON_ERRORS, ScopeFields, StrictInt, Text, error_responses
from qa_service.errors import InvalidInputError, NotFoundError
from qa_service.scope import require_matches

router = APIRouter(tags=["ask"])


class RetrieveRequest(ScopeFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"query": "backup schedule", "k": 4}]})

    query: Text = Field(description="What to search for, in plain language.")
    collection: Text | None = Field(default=None, description="Collection to search; default from settings.")
    k: StrictInt = Field(default=4, description="Chunks to return (1..max_top_k).")
    mode: Literal["hybrid", "dense"] = Field(default="hybrid", description="hybrid: dense + BM25 fused; dense only.")


class RetrievedChunk(BaseModel):
    id: str = Field(description="The chunk id.")
    document_id: str
    source: str
    title: str
    text: str = Field(description="Exactly document_text[start:end].")
    start: int
    end: int
    page: int | None = None
    score: float


class RetrieveResponse(BaseModel):
    collection: str
    items: list[RetrievedChunk]


@router.post("/retrieve", response_model=RetrieveResponse, responses=error_responses(*COMMON_ERRORS, 400, 404, 413))
async def retrieve(request: RetrieveRequest, services: ServicesDep, principal: ReaderDep) -> RetrieveResponse:
    """The best chunks for a query (same retrieval and scoping as /ask), best first."""
    limits = services.settings.limits
    query = " ".join(request.query.split())
    if not query:
        raise InvalidInputError("the query is empty", code="empty_question")
    if len(query) > limits.max_question_chars:
        raise InvalidInputError(f"the query is over {limits.max_question_chars} characters", code="question_too_long")
    if not 1 <= request.k <= limits.max_top_k:
        raise InvalidInputError(f"k must be between 1 and {limits.max_top_k}", code="invalid_top_k")
    collection = resolve_collection(services, principal, request.collection)
    if not services.store.has_collection(collection):
        raise NotFoundError(f"collection {collection!r} does not exist", code="collection_not_found")
    scope = request.scope()
    ids = (
        None
        if scope.is_everything
        else frozenset(require_matches(services.store.scoped_document_ids(collection, scope)))
    )
    search = services.retriever.retrieve_dense if request.mode == "dense" else services.retriever.retrieve
    hits = await anyio.to_thread.run_sync(
        lambda: search(query, collection=collection, top_k=request.k, document_ids=ids)
    )
    return RetrieveResponse(
        collection=collection,
        items=[
            RetrievedChunk(
                id=h.chunk.id,
                document_id=h.chunk.document_id,
                source=h.chunk.source,
                title=h.chunk.title,
                text=h.chunk.text,
                start=h.chunk.start,
                end=h.chunk.end,
                page=h.chunk.page,
                score=h.score,
            )
            for h in hits
        ],
    )
