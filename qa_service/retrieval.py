"""Hybrid retrieval: dense top-k from Chroma plus BM25 over the same chunks, fused into one ranking.

The BM25 index is derived from Chroma and updated (only what changed) whenever the collection's version
token changes, so several API processes sharing one Chroma stay consistent without talking to each other.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Literal, Protocol

from qa_service.domain import Chunk, ScoredChunk
from qa_service.embeddings import Embedder, Vectors
from qa_service.lexical import LexicalIndex, LexicalIndexes
from qa_service.store import ChromaStore

FusionMethod = Literal["convex", "rrf"]


class Retriever(Protocol):
    """What the answerer needs from retrieval."""

    def retrieve(self, question: str, *, collection: str, top_k: int) -> list[ScoredChunk]: ...

    def prevalence(self, words: set[str], *, collection: str) -> dict[str, float]: ...

    def term_shares(self, terms: set[str], *, collection: str) -> dict[str, float]: ...


class HybridRetriever:
    """Dense + BM25 candidates, fused (convex combination by default, or reciprocal rank fusion)."""

    def __init__(
        self,
        *,
        store: ChromaStore,
        embedder: Embedder,
        candidates: int = 50,
        fusion: FusionMethod = "convex",
        alpha: float = 0.5,
        rrf_k: int = 60,
        lexical_directory: Path | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._candidates = candidates
        self._fusion: FusionMethod = fusion
        self._alpha = alpha
        self._rrf_k = rrf_k
        self._indexes = LexicalIndexes(store, lexical_directory)

    def lexical_index(self, collection: str) -> LexicalIndex:
        """The BM25 index for ``collection``, brought up to date with Chroma (see ``qa_service.lexical``)."""
        return self._indexes.get(collection)

    def retrieve(
        self, question: str, *, collection: str, top_k: int, document_ids: AbstractSet[str] | None = None
    ) -> list[ScoredChunk]:
        """The ``top_k`` best chunks for ``question``; each carries its fused score and source ranks.
        ``document_ids`` limits both rankings to those documents (a scoped question)."""
        lexical = self.lexical_index(collection)
        vector = self._embedder.embed_cached([question])[0]
        dense = self._dense(lexical, collection, vector, self._candidates, document_ids)
        sparse = lexical.search(question, self._candidates, document_ids=document_ids)
        return fuse_rankings(dense, sparse, method=self._fusion, alpha=self._alpha, rrf_k=self._rrf_k)[:top_k]

    def _dense(
        self,
        cached: LexicalIndex,
        collection: str,
        vector: Vectors,
        k: int,
        document_ids: AbstractSet[str] | None = None,
    ) -> list[tuple[Chunk, float]]:
        """Chroma's nearest ids, resolved against the cached ready chunks (an id missing there belongs to a
        document that is not ready, or arrived after the cache was built, and is skipped as before)."""
        where = {"document_id": {"$in": sorted(document_ids)}} if document_ids is not None else None
        hits = self._store.query_dense_ids(collection, vector, k, where=where)
        return [(cached.by_id[cid], sim) for cid, sim in hits if cid in cached.by_id]

    def prevalence(self, words: set[str], *, collection: str) -> dict[str, float]:
        """How common each word is in the collection (see ``LexicalIndex.prevalence``), as of the last
        search: asked right after one, it need not ask the store again whether the collection changed."""
        index = self._indexes.latest(collection)
        return {w: index.prevalence(w) for w in words}

    def term_shares(self, terms: set[str], *, collection: str) -> dict[str, float]:
        """The share of the collection's chunks holding each stemmed term (see ``LexicalIndex.term_share``),
        as of the last search."""
        index = self._indexes.latest(collection)
        return {t: index.term_share(t) for t in terms}

    def retrieve_dense(
        self, question: str, *, collection: str, top_k: int, document_ids: AbstractSet[str] | None = None
    ) -> list[ScoredChunk]:
        """Dense-only ranking (the baseline the evaluation compares against)."""
        cached = self.lexical_index(collection)
        vector = self._embedder.embed_cached([question])[0]
        dense = self._dense(cached, collection, vector, top_k, document_ids)
        return [ScoredChunk(c, sim, dense_rank=r, dense_similarity=sim) for r, (c, sim) in enumerate(dense, 1)]


class DenseOnlyRetriever:
    """Dense retrieval alone, behind the same interface (the evaluation's baseline)."""

    def __init__(self, hybrid: HybridRetriever) -> None:
        self._hybrid = hybrid

    def retrieve(self, question: str, *, collection: str, top_k: int) -> list[ScoredChunk]:
        return self._hybrid.retrieve_dense(question, collection=collection, top_k=top_k)

    def prevalence(self, words: set[str], *, collection: str) -> dict[str, float]:
        return self._hybrid.prevalence(words, collection=collection)

    def term_shares(self, terms: set[str], *, collection: str) -> dict[str, float]:
        return self._hybrid.term_shares(terms, collection=collection)


def fuse_rankings(
    dense: list[tuple[Chunk, float]],
    lexical: list[tuple[Chunk, float]],
    *,
    method: FusionMethod = "convex",
    alpha: float = 0.5,
    rrf_k: int = 60,
) -> list[ScoredChunk]:
    """Fuse a dense and a lexical ranking.

    ``convex``: alpha * min-max-normalised cosine + (1 - alpha) * min-max-normalised BM25, a chunk missing
    from one list scoring 0 there. ``rrf``: reciprocal rank fusion, sum of 1 / (rrf_k + rank). Convex
    combination keeps how far ahead a hit is, which RRF throws away; on the python-docs suite it lifts
    MRR from 1.08x to 1.20x the dense-only baseline (BENCHMARKS.md).
    """
    by_id = {chunk.id: chunk for chunk, _ in [*dense, *lexical]}
    dense_rank = {chunk.id: rank for rank, (chunk, _) in enumerate(dense, 1)}
    lexical_rank = {chunk.id: rank for rank, (chunk, _) in enumerate(lexical, 1)}
    similarity = {chunk.id: sim for chunk, sim in dense}
    if method == "rrf":
        scores = {cid: sum(1.0 / (rrf_k + r[cid]) for r in (dense_rank, lexical_rank) if cid in r) for cid in by_id}
    else:
        d, s = _min_max(dense), _min_max(lexical)
        scores = {cid: alpha * d.get(cid, 0.0) + (1 - alpha) * s.get(cid, 0.0) for cid in by_id}
    ordered = sorted(by_id, key=lambda cid: (-scores[cid], dense_rank.get(cid, 10**9)))
    return [
        ScoredChunk(by_id[cid], scores[cid], dense_rank.get(cid), lexical_rank.get(cid), similarity.get(cid))
        for cid in ordered
    ]


def _min_max(ranking: list[tuple[Chunk, float]]) -> dict[str, float]:
    if not ranking:
        return {}
    values = [score for _, score in ranking]
    low, high = min(values), max(values)
    return {chunk.id: (score - low) / (high - low) if high > low else 1.0 for chunk, score in ranking}
