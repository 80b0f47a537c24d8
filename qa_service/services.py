"""Builds the service objects from settings, once, in dependency order (no globals, no import-time work)."""

from __future__ import annotations

from dataclasses import dataclass

from qa_service.answering.answerer import Answerer
from qa_service.answering.evidence import DocumentCache, EvidenceRanker
from qa_service.answering.prompts import PromptTemplate
from qa_service.chroma_client import open_chroma_client
from qa_service.embeddings import Embedder, SentenceTransformerEmbedder
from qa_service.ingest.pipeline import Ingestor
from qa_service.llm import build_llm
from qa_service.retrieval import HybridRetriever
from qa_service.settings import Settings
from qa_service.store import ChromaStore


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    store: ChromaStore
    embedder: Embedder
    retriever: HybridRetriever
    answerer: Answerer
    ingestor: Ingestor


def build_services(settings: Settings, *, embedder: Embedder | None = None) -> Services:
    """Open the store, load the embedding model and wire the pipeline. ``embedder`` lets tests share one."""
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
    )
    ranker = EvidenceRanker(embedder=embedder, documents=DocumentCache(store.get_document))
    answerer = Answerer(
        retriever=retriever,
        ranker=ranker,
        llm=build_llm(settings.llm),
        system_prompt=PromptTemplate(settings.prompts_dir / "answer_system.txt"),
        user_prompt=PromptTemplate(settings.prompts_dir / "answer_user.txt"),
        max_tokens=settings.llm.max_tokens,
    )
    ingestor = Ingestor(
        store=store,
        embedder=embedder,
        chunk_size=settings.chunking.chunk_size,
        chunk_overlap=settings.chunking.chunk_overlap,
    )
    return Services(settings, store, embedder, retriever, answerer, ingestor)
