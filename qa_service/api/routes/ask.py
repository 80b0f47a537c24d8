"""POST /ask: a grounded answer with exact citations, as JSON or Server-Sent Events."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from typing import Any

import anyio
from fastapi import APIRouter
from sse_starlette.sse import EventSourceResponse

from qa_service.answering.answerer import Answer, Answerer, no_llm_error
from qa_service.api.deps import ReaderDep, ServicesDep, resolve_collection
from qa_service.api.schemas import (
    COMMON_ERRORS,
    AskRequest,
    AskResponse,
    Citation,
    Conflict,
    ConflictSide,
    ShortAnswer,
    error_responses,
)
from qa_service.errors import InvalidInputError, NotFoundError, QAError, RetryLaterError
from qa_service.scope import Scope, ScopedRetriever, require_matches
from qa_service.security import Principal
from qa_service.services import Services

router = APIRouter(tags=["ask"])
log = logging.getLogger("qa_service.api")


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={
        **error_responses(*COMMON_ERRORS, 400, 404, 413),
        200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE events when stream=true"},
    },
)
async def ask(request: AskRequest, services: ServicesDep, principal: ReaderDep) -> Any:
    """Answer a question from the indexed documents, citing the exact characters that support it."""
    answer, collection = prepare_answer(request, services, principal)

    def respond() -> AskResponse:
        result = answer()
        return to_response(result, collection)

    if request.stream:
        return EventSourceResponse(_stream(respond))
    return await anyio.to_thread.run_sync(respond)


def prepare_answer(request: AskRequest, services: Services, principal: Principal) -> tuple[Callable[[], Answer], str]:
    """Validate a question (limits, the key's collections), and return the work that answers it — holding
    a generation-queue slot when it uses the LLM, recording stage metrics — with the collection asked.
    Shared by /ask and the OpenAI-compatible surface."""
    question, collection, top_k, mode = _validated(request, services, principal)
    answerer = scoped_answerer(services, collection, request.scope())

    def answer() -> Answer:
        result = answerer.ask(question, collection=collection, top_k=top_k, mode=mode, history=request.history)
        services.metrics.observe_stages(result.timings_ms, result.mode)
        return result

    if mode != "extractive" and services.answerer.has_llm:
        return _gated(answer, services), collection
    return answer, collection


def scoped_answerer(services: Services, collection: str, scope: Scope) -> Answerer:
    """The answerer for a question limited to some documents (the shared one when it is not limited)."""
    if scope.is_everything:
        return services.answerer
    document_ids = require_matches(services.store.scoped_document_ids(collection, scope))
    return services.answerer.with_retriever(ScopedRetriever(services.retriever, frozenset(document_ids)))


def _gated(answer: Callable[[], Answer], services: Services) -> Callable[[], Answer]:
    """LLM answers hold a slot of the bounded generation queue, reserved now: when it is full, 503 +
    Retry-After before any byte is sent, for a stream as for a plain request."""
    gate = services.generation_gate
    try:
        reservation = gate.reserve()
    except RetryLaterError:
        services.metrics.rejections.labels("generation_queue_full").inc()
        raise

    def gated() -> Answer:
        with gate.slot(reservation):
            return answer()

    return gated


def _validated(request: AskRequest, services: Services, principal: Principal) -> tuple[str, str, int, Any]:
    settings = services.settings
    question = " ".join(request.question.split())
    if not question:
        raise InvalidInputError("the question is empty", code="empty_question")
    if len(question) > settings.limits.max_question_chars:
        raise InvalidInputError(
            f"the question has {len(question)} characters; the limit is {settings.limits.max_question_chars}",
            code="question_too_long",
        )
    top_k = request.top_k if request.top_k is not None else settings.retrieval.top_k
    if not 1 <= top_k <= settings.limits.max_top_k:
        raise InvalidInputError(f"top_k must be between 1 and {settings.limits.max_top_k}", code="invalid_top_k")
    collection = resolve_collection(services, principal, request.collection)
    # A stream sends its status line before the answer is worked out: the store is asked first, so an outage
    # or a missing collection is still a 503 or 404. Otherwise the work itself raises them.
    if not services.store.has_collection(collection, fresh=request.stream):
        raise NotFoundError(f"collection {collection!r} does not exist", code="collection_not_found")
    mode = request.mode or settings.answer_mode
    if mode == "generative" and not services.answerer.has_llm:
        raise no_llm_error()  # before a stream starts, so a client gets the 422 rather than an error event
    return question, collection, top_k, mode


async def _stream(respond: Callable[[], AskResponse]) -> AsyncIterator[dict[str, str]]:
    """SSE: a progress event at once, the answer's words as token events, then the full response."""
    yield {"event": "progress", "data": json.dumps({"stage": "retrieving"})}
    try:
        result = await anyio.to_thread.run_sync(respond)
    except QAError as exc:  # the status line is already sent: report the error as an event
        yield {"event": "error", "data": json.dumps({"code": exc.code, "message": exc.message})}
        return
    except Exception:  # never a stream that just stops: the client gets an error event, the log the details
        log.exception("unhandled error while streaming an answer")
        yield {"event": "error", "data": json.dumps({"code": "internal_error", "message": "internal error"})}
        return
    for piece in answer_pieces(result.answer):
        yield {"event": "token", "data": json.dumps({"text": piece})}
    yield {"event": "final", "data": result.model_dump_json()}


def answer_pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


def to_response(answer: Answer, collection: str) -> AskResponse:
    index = {(e.document_id, e.start): i for i, e in enumerate(answer.citations, 1)}
    return AskResponse(
        answer=answer.answer,
        refused=answer.refused,
        mode=answer.mode,
        answerability=answer.answerability,
        premise_corrected=answer.premise_corrected,
        short_answer=ShortAnswer(**asdict(answer.short_answer)) if answer.short_answer else None,
        citations=[
            Citation(
                index=i,
                document_id=e.document_id,
                source=e.source,
                title=e.title or None,
                chunk_id=e.chunk_id,
                start=e.start,
                end=e.end,
                quote=e.text,
                score=e.score,
                page=e.page,
                heading_path=e.heading_path or None,
                speaker=e.claim.speaker if e.claim is not None else None,
            )
            for i, e in enumerate(answer.citations, 1)
        ],
        conflicts=[
            Conflict(
                about=c.about,
                sides=[
                    ConflictSide(
                        speaker=side.speaker,
                        position=side.position,
                        statement=side.statement,
                        citations=[index[(e.document_id, e.start)] for e in side.evidence],
                    )
                    for side in c.sides
                ],
            )
            for c in answer.conflicts
        ],
        timings_ms=answer.timings_ms,
        question=answer.question,
        collection=collection,
        refusal_reason=answer.refusal_reason,
        fallback_reason=answer.fallback_reason,
        rewritten_question=answer.rewritten_question,
    )
