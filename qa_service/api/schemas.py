"""Request and response models of the HTTP API (they are the OpenAPI page)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from qa_service.scope import Scope
from qa_service.text import unencodable_at


def _encodable(value: str) -> str:
    """Text that cannot be written as UTF-8 (a lone surrogate such as ``"\\ud800"``, which JSON allows)
    would fail deep in the tokenizer or the store: refused here, as 422 ``invalid_text``."""
    position = unencodable_at(value)
    if position is not None:
        raise PydanticCustomError(
            "invalid_text", "text is not valid Unicode (character {position} cannot be encoded)", {"position": position}
        )
    return value


Text = Annotated[str, AfterValidator(_encodable)]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _instant(value: Any) -> Any:
    """Unix seconds (never milliseconds, whatever their size) or ISO 8601 (UTC when no zone is given),
    between 1970 and 9999: 422 ``invalid_date`` otherwise, not an overflow deeper down."""
    if isinstance(value, bool):
        raise PydanticCustomError("invalid_date", "a date must be ISO 8601 text or Unix seconds")
    if isinstance(value, int | float):
        if not 0 <= value < _LATEST.timestamp():
            raise PydanticCustomError("invalid_date", "Unix seconds must be between 0 and year 9999")
        return datetime.fromtimestamp(value, tz=UTC)
    return value


def _in_range(value: datetime) -> datetime:
    value = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not _EPOCH <= value < _LATEST:
        raise PydanticCustomError("invalid_date", "dates must fall between 1970 and 9999")
    return value


Instant = Annotated[datetime, BeforeValidator(_instant), AfterValidator(_in_range)]
StrictInt = Annotated[int, Field(strict=True)]  # 5, not "5" or 5.0
StrictBool = Annotated[bool, Field(strict=True)]  # true, not "yes" or 1


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: Text = Field(max_length=20_000)


class MetadataFilter(BaseModel):
    """Filter on document metadata; every given field must hold."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"tags": ["ops"]}]})

    tags: list[Annotated[Text, Field(min_length=1, max_length=64)]] | None = Field(
        default=None, min_length=1, max_length=50, description="Documents carrying any of these tags."
    )
    updated_after: Instant | None = Field(
        default=None, description="Documents ingested or changed after this time (ISO 8601 or Unix seconds)."
    )


class ScopeFields(BaseModel):
    """Which documents of the collection a question may use (all of them when none is given)."""

    document_ids: list[Annotated[Text, Field(min_length=1, max_length=128)]] | None = Field(
        default=None, min_length=1, max_length=1000, description="Only these documents (ids from GET /documents)."
    )
    sources: list[Annotated[Text, Field(min_length=1, max_length=300)]] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Glob patterns over the documents' file names or relative paths, e.g. `manual-*.pdf`.",
    )
    filter: MetadataFilter | None = Field(default=None, description="Filter on document metadata.")

    def scope(self) -> Scope:
        metadata = self.filter or MetadataFilter()
        return Scope(
            document_ids=tuple(dict.fromkeys(self.document_ids or ())),  # Chroma refuses repeated ids
            sources=tuple(dict.fromkeys(self.sources or ())),
            tags=tuple(dict.fromkeys(metadata.tags or ())),
            updated_after=metadata.updated_after.timestamp() if metadata.updated_after else None,
        )


class AskRequest(ScopeFields):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question": "How many Druze civilians were killed in Sweida?"}]},
    )

    question: Text = Field(description="The question, in plain language.")
    collection: Text | None = Field(default=None, description="Collection to search; default from settings.")
    top_k: StrictInt | None = Field(default=None, description="Chunks handed to evidence ranking (1..max_top_k).")
    mode: Literal["auto", "extractive", "generative"] | None = Field(
        default=None, description="extractive: no LLM; generative: LLM over numbered evidence; auto: LLM if verified."
    )
    history: list[ChatMessage] = Field(default_factory=list, max_length=50, description="Earlier turns.")
    stream: StrictBool = Field(default=False, description="Answer as Server-Sent Events.")


class Citation(BaseModel):
    index: int = Field(description="The n of the [n] marker in the answer.")
    document_id: str
    source: str = Field(description="The file name.")
    title: str | None = Field(default=None, description="The document's title, when it has one.")
    chunk_id: str
    start: int = Field(description="Start offset into the document text (GET /documents/{id}/text).")
    end: int = Field(description="End offset (exclusive).")
    quote: str = Field(description="Exactly document_text[start:end].")
    score: float
    page: int | None = Field(default=None, description="1-based PDF page.")
    heading_path: str | None = Field(
        default=None,
        description="The headings above the quote in its document, outermost first.",
        examples=["4. The /usr Hierarchy › 4.6. /usr/lib : Libraries for programming and packages"],
    )
    speaker: str | None = Field(
        default=None, description="Who makes the claim this sentence reports, if it reports one."
    )


class ConflictSide(BaseModel):
    speaker: str | None = Field(description="Who says it; null for the document itself (its author).")
    position: Literal["affirms", "claims", "denies", "disputes"] = Field(
        description="affirms/denies: takes that side on the question; claims: gives its own figure; disputes: says "
        "another side's claim is false."
    )
    statement: str = Field(description="What this side says, in the document's words.")
    citations: list[int] = Field(description="Indexes into `citations`: the statement's sentence first, then support.")


class Conflict(BaseModel):
    about: str = Field(description="What the sources disagree about (the question asked).")
    sides: list[ConflictSide]


class ShortAnswer(BaseModel):
    text: str = Field(description="The exact phrase that answers the question, e.g. a number, a name, a value.")
    document_id: str
    start: int = Field(description="Offset of the phrase in the document text (inside a cited span).")
    end: int


class AskResponse(BaseModel):
    answer: str = Field(examples=["Last week ISIS suicide bombers killed more than 215 Druze civilians … [1]"])
    refused: bool = Field(description="True when the documents do not answer the question.")
    mode: Literal["extractive", "generative"] = Field(description="The mode that produced this answer.")
    citations: list[Citation]
    timings_ms: dict[str, float]
    question: str
    collection: str
    refusal_reason: str | None = Field(default=None, description="Why the question was refused.")
    fallback_reason: str | None = Field(default=None, description="Why auto mode answered extractively.")
    rewritten_question: str | None = Field(
        default=None, description="The standalone question a follow-up was rewritten into, using `history`."
    )
    conflicts: list[Conflict] = Field(
        default_factory=list, description="Sources that contradict each other on the question, every side cited."
    )
    answerability: float | None = Field(
        default=None,
        description="The calibrated probability that the documents answer the question (the answerability "
        "model's); the service refuses below its threshold. Null when nothing was retrieved or the text is not "
        "a question. The eval draws its refusal precision-recall curve over it.",
    )
    short_answer: ShortAnswer | None = Field(
        default=None,
        description="For a question asking for a number, date, name, place or value: the phrase inside the first "
        "cited sentence that answers it, with its offsets; null otherwise.",
    )
    premise_corrected: bool = Field(
        default=False,
        description="The question takes for granted something the documents contradict: the answer says what "
        "they hold instead ('The documents say otherwise: …'), cited.",
    )


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class DocumentPublic(BaseModel):
    id: str = Field(description="Content hash of the uploaded bytes: the same file always gets the same id.")
    source: str = Field(description="The file name.")
    path: str = Field(default="", description="The path relative to the folder ingested (CLI); empty for uploads.")
    title: str
    state: Literal["received", "parsed", "chunked", "embedded", "ready", "failed"] = Field(
        description="received -> parsed -> chunked -> embedded -> ready, or failed; only ready ones are searched."
    )
    chunk_count: int
    embedded_chunks: int = Field(description="Chunks embedded so far: progress while the state is chunked.")
    size: int = Field(description="Bytes uploaded while in progress; characters of cleaned text once parsed.")
    error: str | None = Field(default=None, description="Why ingestion failed.")
    updated_at: float = Field(description="Unix time of the last state change.")
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="User metadata (upload `metadata` field, Markdown front matter)."
    )
    collection: str


class DocumentPage(BaseModel):
    collection: str
    total: int = Field(description="Documents in the collection (all states).")
    offset: int
    limit: int
    items: list[DocumentPublic]


class DocumentAccepted(BaseModel):
    id: str
    source: str
    names: list[str] = Field(
        description="Every file name of this upload with these bytes (identical files are one document)."
    )
    collection: str
    state: str = Field(description="received when queued; ready or in progress when the same content was there.")
    queued: bool = Field(description="False when the same content was already ready or in progress.")
    status_url: str = Field(description="GET it to follow the document's state.")


class UploadResponse(BaseModel):
    items: list[DocumentAccepted] = Field(description="One per file, in upload order (every list response says items).")


class CollectionPublic(BaseModel):
    name: str
    documents: int = Field(description="Documents in any state.")
    ready: int = Field(description="Documents that questions can see.")
    chunks: int


class CollectionList(BaseModel):
    items: list[CollectionPublic]


_ERROR_TEXT = {
    400: "Malformed request body (broken multipart, bytes that are not UTF-8)",
    401: "No API key, or an unknown one",
    403: "The key lacks the role or the collection",
    404: "Unknown document or collection",
    409: "Not possible in the document's current state",
    413: "Body, upload or file over its limit",
    415: "Unsupported or unreadable file",
    422: "Invalid parameters",
    429: "Rate limit reached (see Retry-After)",
    503: "Starting up, or too busy (see Retry-After)",
}


def error_responses(*statuses: int, plain_route: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the errors a route can answer, all with the one JSON error body.

    ``plain_route``: the route's own responses are not JSON; FastAPI would then document its errors
    under the route's media type, so they are spelled out as application/json."""
    if plain_route:
        json_error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
        return {status: {"description": _ERROR_TEXT[status], "content": json_error} for status in statuses}
    return {status: {"model": ErrorResponse, "description": _ERROR_TEXT[status]} for status in statuses}


COMMON_ERRORS = (401, 403, 422, 429, 503)
