"""Hybrid retrieval: dense top-k from Chroma plus BM25 over the same chunks, fused by RRF.

The BM25 index is derived from Chroma and rebuilt whenever the collection's version token changes,
so several API processes sharing one Chroma stay consistent without talking to each other.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from qa_service.domain import Chunk, ScoredChunk
from qa_service.embeddings import Embedder
from qa_service.store import ChromaStore
from qa_service.text import stem_terms, words


class Retriever(Protocol):
    """What the answerer needs from retrieval."""

    def retrieve(self, question: str, *, collection: str, top_k: int) -> list[ScoredChunk]: ...

    def chunk_share(self, words: set[str], *, collection: str) -> dict[str, float]: ...


class LexicalIndex:
    """BM25 (bm25s) over a fixed list of chunks."""

    def __init__(self, chunks: list[Chunk]) -> None:
        import bm25s

        self.chunks = chunks
        self._bm25 = bm25s.BM25()
        corpus = [stem_terms(c.search_text) or ["_empty_"] for c in chunks]
        self._vocab = {term for terms in corpus for term in terms}
        self._word_chunks: Counter[str] = Counter(w for c in chunks for w in set(words(c.text)))
        if chunks:
            self._bm25.index(corpus, show_progress=False)

    def chunk_share(self, word: str) -> float:
        """Share of chunks whose text holds ``word`` (a lower-cased word, not a stem)."""
        return self._word_chunks[word] / len(self.chunks) if self.chunks else 0.0

    def search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        terms = [t for t in stem_terms(query) if t in self._vocab]
        if not terms or not self.chunks:
            return []
        results, scores = self._bm25.retrieve([terms], k=min(k, len(self.chunks)), show_progress=False)
        return [(self.chunks[int(i)], float(s)) for i, s in zip(results[0], scores[0], strict=True) if s > 0]


@dataclass(slots=True)
class _CachedIndex:
    version: str
    index: LexicalIndex
    ready: set[str]


class HybridRetriever:
    """Dense + BM25 candidates fused with reciprocal rank fusion."""

    def __init__(self, *, store: ChromaStore, embedder: Embedder, candidates: int = 20, rrf_k: int = 60) -> None:
        self._store = store
        self._embedder = embedder
        self._candidates = candidates
        self._rrf_k = rrf_k
        self._indexes: dict[str, _CachedIndex] = {}
        self._lock = threading.Lock()

    def lexical_index(self, collection: str) -> _CachedIndex:
        """The BM25 index for ``collection``, rebuilt if Chroma changed since it was built."""
        version = self._store.version(collection)
        cached = self._indexes.get(collection)
        if cached is not None and cached.version == version:
            return cached
        with self._lock:
            cached = self._indexes.get(collection)
            if cached is None or cached.version != version:
                ready = self._store.ready_document_ids(collection)
                cached = _CachedIndex(version, LexicalIndex(self._store.all_chunks(collection)), ready)
                self._indexes[collection] = cached
        return cached

    def retrieve(self, question: str, *, collection: str, top_k: int) -> list[ScoredChunk]:
        """The ``top_k`` best chunks for ``question``; each carries its fused score and source ranks."""
        lexical = self.lexical_index(collection)
        vector = self._embedder.embed_cached([question])[0]
        dense = self._store.query_dense(collection, vector, self._candidates, lexical.ready)
        sparse = lexical.index.search(question, self._candidates)
        return fuse_rankings(dense, sparse, rrf_k=self._rrf_k)[:top_k]

    def chunk_share(self, words: set[str], *, collection: str) -> dict[str, float]:
        """How common each word is in the collection (share of chunks holding it)."""
        index = self.lexical_index(collection).index
        return {w: index.chunk_share(w) for w in words}

    def retrieve_dense(self, question: str, *, collection: str, top_k: int) -> list[ScoredChunk]:
        """Dense-only ranking (the baseline the evaluation compares against)."""
        ready = self.lexical_index(collection).ready
        vector = self._embedder.embed_cached([question])[0]
        dense = self._store.query_dense(collection, vector, top_k, ready)
        return [ScoredChunk(c, sim, dense_rank=r, dense_similarity=sim) for r, (c, sim) in enumerate(dense, 1)]


class DenseOnlyRetriever:
    """Dense retrieval alone, behind the same interface (the evaluation's baseline)."""

    def __init__(self, hybrid: HybridRetriever) -> None:
        self._hybrid = hybrid

    def retrieve(self, question: str, *, collection: str, top_k: int) -> list[ScoredChunk]:
        return self._hybrid.retrieve_dense(question, collection=collection, top_k=top_k)

    def chunk_share(self, words: set[str], *, collection: str) -> dict[str, float]:
        return self._hybrid.chunk_share(words, collection=collection)


def fuse_rankings(
    dense: list[tuple[Chunk, float]], lexical: list[tuple[Chunk, float]], *, rrf_k: int = 60
) -> list[ScoredChunk]:
    """Reciprocal rank fusion: score = sum over rankings of 1 / (rrf_k + rank)."""
    by_id: dict[str, Chunk] = {}
    scores: dict[str, float] = {}
    dense_rank: dict[str, int] = {}
    lexical_rank: dict[str, int] = {}
    similarity: dict[str, float] = {}
    for rank, (chunk, sim) in enumerate(dense, 1):
        by_id[chunk.id] = chunk
        dense_rank[chunk.id] = rank
        similarity[chunk.id] = sim
        scores[chunk.id] = scores.get(chunk.id, 0.0) + 1.0 / (rrf_k + rank)
    for rank, (chunk, _score) in enumerate(lexical, 1):
        by_id[chunk.id] = chunk
        lexical_rank[chunk.id] = rank
        scores[chunk.id] = scores.get(chunk.id, 0.0) + 1.0 / (rrf_k + rank)
    ordered = sorted(scores, key=lambda cid: scores[cid], reverse=True)
    return [
        ScoredChunk(by_id[cid], scores[cid], dense_rank.get(cid), lexical_rank.get(cid), similarity.get(cid))
        for cid in ordered
    ]
