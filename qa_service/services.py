"""Builds the service objects from settings, once, in dependency order (no globals, no import-time work)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily

from qa_service.admission import GenerationGate, RateLimiter
from qa_service.answering.answerability import AnswerabilityModel, ModelRefuser, Refuser
from qa_service.answering.answerer import Answerer
from qa_service.answering.claims import ClaimLookup
from qa_service.answering.evidence import DocumentCache, EvidenceRanker
from qa_service.answering.judge import ClaimJudge
from qa_service.answering.prompts import PromptTemplate
from qa_service.answering.reader import Reader
from qa_service.chroma_client import open_chroma_client
from qa_service.embeddings import Embedder, SentenceTransformerEmbedder
from qa_service.errors import StoreUnavailableError
from qa_service.feedback import FeedbackLog
from qa_service.ingest.isolation import Isolated, ParseLimits
from qa_service.ingest.jobs import IngestionQueue
from qa_service.ingest.pipeline import Ingestor
from qa_service.llm import build_llm
from qa_service.metrics import Metrics
from qa_service.retrieval import HybridRetriever
from qa_service.security import KeyRing
from qa_service.settings import Settings
from qa_service.store import ALL_STATES, ChromaStore


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: ChromaStore
    embedder: Embedder
    retriever: HybridRetriever
    answerer: Answerer
    ingestor: Ingestor
    jobs: IngestionQueue
    keys: KeyRing
    rate_limiter: RateLimiter
    generation_gate: GenerationGate
    metrics: Metrics
    feedback: FeedbackLog


def build_refuser(settings: Settings) -> Refuser:
    return ModelRefuser(
        AnswerabilityModel.load(),
        threshold=settings.answering.refusal_threshold,
        premise_floor=settings.answering.premise_floor,
    )


def build_services(settings: Settings, *, embedder: Embedder | None = None, refuser: Refuser | None = None) -> Services:
    """Open the store, load the embedding model and wire the pipeline. ``embedder`` lets tests share one."""
    keys = KeyRing.from_settings(settings.auth)  # a bad key entry fails before anything heavy is loaded
    store = ChromaStore(open_chroma_client(settings))
    embedder = embedder or SentenceTransformerEmbedder(
        settings.embedding.resolved_model_path(), batch_size=settings.embedding.batch_size
    )
    retriever = HybridRetriever(
        store=store,
        embedder=embedder,
        candidates=settings.retrieval.candidates,
        fusion=settings.retrieval.fusion,
        alpha=settings.retrieval.alpha,
        rrf_k=settings.retrieval.rrf_k,
        lexical_directory=settings.data_dir / "lexical",
    )
    documents = DocumentCache(
        store.get_documents, settings.retrieval.document_cache_mb << 20, load_vectors=store.sentence_vectors
    )
    reader = Reader.load() if settings.answering.reader else None
    ranker = EvidenceRanker(
        embedder=embedder,
        documents=documents,
        reader=reader,
        reader_candidates=settings.answering.reader_candidates,
    )
    llm = build_llm(settings.llm)
    answerer = Answerer(
        retriever=retriever,
        ranker=ranker,
        refuser=refuser or build_refuser(settings),
        llm=llm,
        system_prompt=PromptTemplate(settings.prompts_dir / "answer_system.txt"),
        user_prompt=PromptTemplate(settings.prompts_dir / "answer_user.txt"),
        max_tokens=settings.llm.max_tokens,
        claims=ClaimLookup(documents=documents, chunk_at=store.chunk_at),
        refuse_requests=settings.answering.refuse_requests,
        correct_premises=settings.answering.correct_premises,
        judge=ClaimJudge.load() if llm is not None else None,  # it verifies what an LLM writes
    )
    ingestor = Ingestor(
        store=store,
        embedder=embedder,
        chunk_size=settings.chunking.chunk_size,
        chunk_overlap=settings.chunking.chunk_overlap,
        max_pages=settings.limits.max_pdf_pages,
        max_chars=settings.limits.max_document_chars,
        sentence_vectors=settings.ingest.sentence_vectors,
        isolation=Isolated(ParseLimits(settings.ingest.parse_timeout_s, settings.ingest.parse_memory_mb)),
    )
    jobs = IngestionQueue(
        store=store,
        ingestor=ingestor,
        spool_dir=settings.data_dir / "uploads",
        dimension=embedder.dimension,
        workers=settings.ingest.workers,
        stale_after=settings.ingest.stale_after_s,
        store_retry_s=settings.ingest.store_retry_s,
        store_backoff_max_s=settings.ingest.store_backoff_max_s,
    )
    gate = GenerationGate(settings.limits.generation_queue)
    metrics = Metrics()
    metrics.add_gauges(lambda: _gauges(jobs, gate))
    return Services(
        settings=settings,
        store=store,
        embedder=embedder,
        retriever=retriever,
        answerer=answerer,
        ingestor=ingestor,
        jobs=jobs,
        keys=keys,
        rate_limiter=RateLimiter(settings.limits.requests_per_minute),
        generation_gate=gate,
        metrics=metrics,
        feedback=FeedbackLog(settings.data_dir / "feedback.jsonl"),
    )


def _gauges(jobs: IngestionQueue, gate: GenerationGate) -> Iterator[GaugeMetricFamily]:
    """Read when /metrics is scraped; nothing here names a collection (see ``document_gauges``)."""
    yield GaugeMetricFamily("qa_ingest_queue_depth", "Uploaded documents waiting for a worker", value=jobs.depth)
    yield GaugeMetricFamily("qa_generation_queue_depth", "LLM answers running or waiting", value=gate.depth)


def document_gauges(store: ChromaStore, may_use: Callable[[str], bool]) -> Iterator[GaugeMetricFamily]:
    """Documents by collection and state, only for the collections ``may_use`` allows (the caller's key),
    and whether the store answered; a store outage leaves the document counts out rather than failing."""
    documents = GaugeMetricFamily("qa_documents", "Documents by collection and state", labels=["collection", "state"])
    try:
        for name in store.collection_names():
            if not may_use(name):
                continue
            counts = Counter(info.state for info in store.list_documents(name))
            for state in ALL_STATES:
                documents.add_metric([name, state], counts.get(state, 0))
    except StoreUnavailableError:
        yield GaugeMetricFamily("qa_store_up", "1 when the vector store answered this scrape", value=0)
        return
    yield documents
    yield GaugeMetricFamily("qa_store_up", "1 when the vector store answered this scrape", value=1)
