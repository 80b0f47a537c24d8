"""Request and response models of the OpenAI-compatible surface (``/v1/chat/completions``, ``/v1/models``).

Field names follow OpenAI's API so its clients work unchanged; our additions (``citations``, ``qa``) are
extra top-level fields, which those clients keep and expose (``response.citations`` in the Python client).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from qa_service.api.schemas import Citation, ScopeFields, StrictBool, StrictInt, Text


class ContentPart(BaseModel):
    type: str = Field(description="Only `text` parts are read.")
    text: Text | None = Field(default=None, max_length=20_000)


class ChatCompletionMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Annotated[Text, Field(max_length=20_000)] | Annotated[list[ContentPart], Field(max_length=20)] | None = (
        None
    )

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class ChatCompletionRequest(ScopeFields):
    # OpenAI clients send many sampling options (temperature, top_p, n, user...): accepted and ignored, since
    # the answer comes from the grounded pipeline, not from free sampling.
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {"model": "default", "messages": [{"role": "user", "content": "How many were killed in Sweida?"}]}
            ]
        },
    )

    model: Text = Field(description="The collection to answer from (GET /v1/models lists them).")
    messages: list[ChatCompletionMessage] = Field(
        min_length=1, max_length=51, description="The last message is the question; earlier user/assistant turns "
        "are the conversation (system messages are ignored: the service's own prompt is fixed)."
    )  # fmt: skip
    stream: StrictBool = False
    mode: Literal["auto", "extractive", "generative"] | None = Field(
        default=None, description="Extension: the /ask answer mode (default from settings)."
    )
    top_k: StrictInt | None = Field(default=None, description="Extension: chunks handed to evidence ranking.")
    # document_ids, sources, filter (from ScopeFields): extensions, sent by OpenAI clients as `extra_body`.


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatCompletionChoice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int = Field(description="Whitespace-separated words of the question (no tokenizer involved).")
    completion_tokens: int = Field(description="Whitespace-separated words of the answer.")
    total_tokens: int


class AnswerDetails(BaseModel):
    collection: str
    refused: bool = Field(description="True when the documents do not answer the question.")
    mode: Literal["extractive", "generative"]
    refusal_reason: str | None = None
    fallback_reason: str | None = None
    rewritten_question: str | None = None


class ChatCompletionResponse(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatCompletionChoice]
    usage: Usage
    citations: list[Citation] = Field(description="Extension: what each [n] in the answer cites, exactly.")
    qa: AnswerDetails = Field(description="Extension: refusal and mode details, as /ask reports them.")


class ChunkDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    citations: list[Citation] | None = Field(default=None, description="Extension: on the last chunk only.")
    qa: AnswerDetails | None = Field(default=None, description="Extension: on the last chunk only.")


class ModelCard(BaseModel):
    id: str = Field(description="A collection name.")
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "qa-service"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
