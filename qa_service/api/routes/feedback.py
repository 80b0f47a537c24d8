"""POST /feedback: a reader's 👍/👎 on an answer; GET /feedback: the verdicts, exported (qa_service/feedback.py)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from qa_service.api.deps import ReaderDep, ServicesDep, WriterDep, resolve_collection
from qa_service.api.schemas import COMMON_ERRORS, StrictInt, Text, error_responses
from qa_service.feedback import CitedSpan, FeedbackRecord

router = APIRouter(tags=["feedback"])


class FeedbackCitation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    document_id: Text = Field(max_length=200)
    start: StrictInt = Field(ge=0)
    end: StrictInt = Field(ge=0)
    quote: Text = Field(default="", max_length=5_000, description="The cited text, as the answer showed it.")


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"question": "What is the default of MaxAuthTries?", "answer": "The default is 6. [1]",
                          "rating": "up", "citations": [{"document_id": "…", "start": 10, "end": 30}]}]
        },
    )  # fmt: skip

    question: Text = Field(min_length=1, max_length=2_000, description="The question as it was asked.")
    answer: Text = Field(max_length=20_000, description="The answer as it was shown.")
    rating: Literal["up", "down"]
    collection: Text | None = Field(default=None, description="The collection asked; default from settings.")
    citations: list[FeedbackCitation] = Field(default_factory=list, max_length=50)
    refused: bool = Field(default=False, description="The answer was a refusal.")
    comment: Text = Field(default="", max_length=2_000, description="What was wrong (or right), in words.")


class FeedbackAccepted(BaseModel):
    id: str


@router.post(
    "/feedback", status_code=201, response_model=FeedbackAccepted, responses=error_responses(*COMMON_ERRORS, 400, 413)
)
def post_feedback(body: FeedbackRequest, services: ServicesDep, principal: ReaderDep) -> FeedbackAccepted:
    """Record a verdict on an answer, with the question, the answer and its citations."""
    collection = resolve_collection(services, principal, body.collection)
    record = FeedbackRecord(
        question=body.question,
        answer=body.answer,
        rating=body.rating,
        collection=collection,
        citations=tuple(CitedSpan(c.document_id, c.start, c.end, c.quote) for c in body.citations),
        comment=body.comment,
        refused=body.refused,
        sender=principal.name,
    )
    services.feedback.append(record)
    return FeedbackAccepted(id=record.id)


@router.get(
    "/feedback",
    response_class=Response,
    responses={
        200: {"content": {"application/x-ndjson": {}}, "description": "One JSON record per line, oldest first."},
        **error_responses(*COMMON_ERRORS, plain_route=True),
    },
)
def export_feedback(services: ServicesDep, principal: WriterDep) -> Response:
    """Every verdict on the collections this key may use (writers only: it holds other people's questions)."""
    lines = "".join(r.to_json() + "\n" for r in services.feedback.records() if principal.may_use(r.collection))
    return Response(lines, media_type="application/x-ndjson")
