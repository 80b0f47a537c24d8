"""An OpenAI-compatible surface: ``POST /v1/chat/completions`` and ``GET /v1/models``.

The model name selects a collection; answers come from the same pipeline, validation and limits as
``/ask``. Citations are inline ``[n]`` markers (with a sources footer, for clients that only show text)
and a structured ``citations`` field. Streaming sends the verified answer in pieces, as ``/ask`` does: a
generated answer is checked whole before any of it is shown.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from fastapi import APIRouter
from pydantic import ValidationError
from sse_starlette.sse import EventSourceResponse

from qa_service.answering.answerer import Answer
from qa_service.api.deps import ReaderDep, ServicesDep, resolve_collection
from qa_service.api.openai_schemas import (
    AnswerDetails,
    AssistantMessage,
    ChatCompletionChoice,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChunkChoice,
    ChunkDelta,
    ModelCard,
    ModelList,
    Usage,
)
from qa_service.api.routes.ask import answer_pieces, prepare_answer, to_response
from qa_service.api.schemas import COMMON_ERRORS, AskRequest, AskResponse, ChatMessage, Citation, error_responses
from qa_service.errors import InvalidInputError, NotFoundError, QAError

log = logging.getLogger("qa_service.api")
router = APIRouter(prefix="/v1", tags=["openai-compatible"])
FOOTER_QUOTE_CHARS = 160


@router.get("/models", response_model=ModelList, responses=error_responses(*COMMON_ERRORS))
def list_models(services: ServicesDep, principal: ReaderDep) -> ModelList:
    """One model per collection this key may use: pass a collection's name as ``model`` to ask it."""
    names = [name for name in services.store.collection_names() if principal.may_use(name)]
    return ModelList(data=[ModelCard(id=name) for name in names])


@router.get("/models/{model}", response_model=ModelCard, responses=error_responses(*COMMON_ERRORS, 404))
def get_model(model: str, services: ServicesDep, principal: ReaderDep) -> ModelCard:
    resolve_collection(services, principal, model)
    if not services.store.has_collection(model):
        raise NotFoundError(f"model (collection) {model!r} does not exist", code="model_not_found")
    return ModelCard(id=model)


@router.post(
    "/chat/completions",
    response_model=ChatCompletionResponse,
    responses={
        **error_responses(*COMMON_ERRORS, 400, 404, 413),
        200: {"content": {"text/event-stream": {}}, "description": "JSON, or chunks as SSE when stream=true"},
    },
)
async def chat_completions(request: ChatCompletionRequest, services: ServicesDep, principal: ReaderDep) -> Any:
    """Answer the last user message from the collection named by ``model``, citing exact characters."""
    ask_request = _as_ask_request(request)
    run, collection = prepare_answer(ask_request, services, principal)
    question = " ".join(ask_request.question.split())

    def answer() -> AskResponse:
        result: Answer = run()
        return to_response(result, collection)

    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if request.stream:
        return EventSourceResponse(_stream(answer, completion_id, created, request.model))
    response = await anyio.to_thread.run_sync(answer)
    return ChatCompletionResponse(
        id=completion_id,
        created=created,
        model=request.model,
        choices=[ChatCompletionChoice(message=AssistantMessage(content=with_sources(response)))],
        usage=Usage(
            prompt_tokens=len(question.split()),
            completion_tokens=len(response.answer.split()),
            total_tokens=len(question.split()) + len(response.answer.split()),
        ),
        citations=response.citations,
        qa=_details(response),
    )


def _as_ask_request(request: ChatCompletionRequest) -> AskRequest:
    """The last message is the question; earlier user and assistant turns become the /ask history."""
    *earlier, last = request.messages
    if last.role != "user":
        raise InvalidInputError("the last message must come from the user", code="no_question")
    try:
        history = [ChatMessage(role=m.role, content=m.text()) for m in earlier if m.role in ("user", "assistant")]
        return AskRequest(question=last.text(), collection=request.model, top_k=request.top_k, mode=request.mode,
                          history=history[-50:], document_ids=request.document_ids, sources=request.sources,
                          filter=request.filter, stream=request.stream)  # fmt: skip
    except ValidationError as exc:  # e.g. text parts that together exceed a message's limit
        raise InvalidInputError(f"invalid messages: {exc.errors()[0]['msg']}", code="invalid_messages") from None


def with_sources(response: AskResponse) -> str:
    """The answer, then one line per citation (``[n] source:start-end "quote"``)."""
    if not response.citations:
        return response.answer
    return response.answer + "\n\nSources:\n" + "\n".join(_source_line(c) for c in response.citations)


def _source_line(citation: Citation) -> str:
    quote = " ".join(citation.quote.split())
    if len(quote) > FOOTER_QUOTE_CHARS:
        quote = quote[:FOOTER_QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
    return f'[{citation.index}] {citation.source}:{citation.start}-{citation.end} "{quote}"'


def _details(response: AskResponse) -> AnswerDetails:
    return AnswerDetails(
        collection=response.collection,
        refused=response.refused,
        mode=response.mode,
        refusal_reason=response.refusal_reason,
        fallback_reason=response.fallback_reason,
        rewritten_question=response.rewritten_question,
    )


async def _stream(
    answer: Callable[[], AskResponse], completion_id: str, created: int, model: str
) -> AsyncIterator[dict[str, str]]:
    """OpenAI's chunk stream: a role delta, content deltas, a final chunk with citations, then [DONE]."""

    def chunk(delta: ChunkDelta, **extra: Any) -> dict[str, str]:
        finish = extra.pop("finish_reason", None)
        body = ChatCompletionChunk(
            id=completion_id, created=created, model=model,
            choices=[ChunkChoice(delta=delta, finish_reason=finish)], **extra,
        )  # fmt: skip
        data = body.model_dump(mode="json")
        for choice in data["choices"]:  # OpenAI leaves unset delta fields and extensions out, not null
            choice["delta"] = {k: v for k, v in choice["delta"].items() if v is not None}
        return {"data": json.dumps({k: v for k, v in data.items() if v is not None})}

    yield chunk(ChunkDelta(role="assistant", content=""))
    try:
        response = await anyio.to_thread.run_sync(answer)
    except QAError as exc:  # the status line is already sent: OpenAI clients raise on an `error` payload
        yield {"data": json.dumps({"error": {"code": exc.code, "message": exc.message}})}
        return
    except Exception:  # never a stream that just stops
        log.exception("unhandled error while streaming a chat completion")
        yield {"data": json.dumps({"error": {"code": "internal_error", "message": "internal error"}})}
        return
    for piece in answer_pieces(with_sources(response)):
        yield chunk(ChunkDelta(content=piece))
    yield chunk(ChunkDelta(), finish_reason="stop", citations=response.citations, qa=_details(response))
    yield {"data": "[DONE]"}
