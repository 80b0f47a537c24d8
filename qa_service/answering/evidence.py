"""Rank the sentences inside retrieved chunks against the question; each keeps its exact span."""

from __future__ import annotations

import math
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Generic, TypeVar

import numpy as np

from qa_service.answering.anaphora import follows
from qa_service.answering.definitions import defines
from qa_service.answering.policy import HEADING_TERM_WEIGHT, MAX_SENTENCES, NAME_TERM_WEIGHT
from qa_service.answering.question import QuestionAnalysis, holds_answer_type
from qa_service.answering.ranking import HandScorer, SentenceFeatures, SentenceScorer
from qa_service.answering.reader import ReaderInput, ReaderModel
from qa_service.answering.untrusted import addresses_reader
from qa_service.domain import Chunk, Document, Evidence, ScoredChunk, Spans
from qa_service.embeddings import Embedder, Vectors
from qa_service.errors import NotFoundError
from qa_service.ingest.blocks import PATH_SEPARATOR, BlockIndex
from qa_service.ingest.sentences import document_sentences, overlapping
from qa_service.store import SentenceVectors
from qa_service.text import mentions, stem, stem_terms, words

# Weights of the evidence score; set on the seed eval suite (see README, "How answers are chosen").
# A number and the words after it: "215 Druze civilians", "dozens of others", "85 kilometer".
_NUMBER_PHRASE = re.compile(
    r"\b(?:\d[\d,.]*|two|three|four|five|six|seven|eight|nine|ten|dozens|hundreds|thousands)"
    r"(?:\s+|-|(?<=\d)(?=[a-z]))((?:of\s+)?(?:[\w’'-]+\s+){0,2}[\w’'-]+)",
    re.I,
)


@dataclass(frozen=True, slots=True)
class CachedDocument:
    """A document with what ranking reads of it: sentence spans (and their key, which stored sentence
    vectors must carry to be used) and heading paths."""

    document: Document
    spans: Spans
    blocks: BlockIndex
    spans_key: str = ""

    @staticmethod
    def of(document: Document) -> CachedDocument:
        """The spans stored with the document at ingestion where they fit its text, else split now."""
        spans = document.sentences
        if spans is None or (len(spans) and int(spans[-1, 1]) > len(document.text)):
            spans = np.asarray(document_sentences(document.text, document.blocks), dtype=np.int64).reshape(-1, 2)
        return CachedDocument(document, spans, BlockIndex(document.text, document.blocks), SentenceVectors.key(spans))

    def weight(self) -> int:
        """About the bytes it holds: text, spans, and per block and claim their objects and paths."""
        document = self.document
        return (
            sys.getsizeof(document.text)
            + 2 * self.spans.nbytes
            + 400 * len(document.blocks)
            + 300 * len(document.claims)
        )


class DocumentCache:
    """Documents with their sentence spans, and chunks' stored sentence vectors, by id (ids are content
    hashes, so an entry never goes stale). What a question misses is loaded in one batch each: a store
    round trip for its documents and one for its chunks' vectors, however many it retrieved."""

    def __init__(
        self,
        load: Callable[[str, Sequence[str]], dict[str, Document]],
        size_bytes: int = 64 << 20,
        *,
        load_vectors: Callable[[str, Sequence[str]], dict[str, SentenceVectors]] | None = None,
        vector_size: int = 4096,
    ) -> None:
        self._load = load
        self._load_vectors = load_vectors
        self._documents: _Lru[CachedDocument] = _Lru(size_bytes, weigh=CachedDocument.weight)
        self._vectors: _Lru[SentenceVectors | None] = _Lru(vector_size)  # None: none stored for that chunk

    def get(self, collection: str, document_id: str) -> tuple[Document, Spans]:
        entry = self.entry(collection, document_id)
        return entry.document, entry.spans

    def entry(self, collection: str, document_id: str) -> CachedDocument:
        found = self.entries(collection, [document_id]).get(document_id)
        if found is None:
            raise NotFoundError(f"document {document_id!r} not found in {collection!r}", code="document_not_found")
        return found

    def entries(self, collection: str, document_ids: Sequence[str]) -> dict[str, CachedDocument]:
        """These documents by id (absent: deleted since they were retrieved)."""
        out, missing = self._documents.find(collection, document_ids)
        if missing:
            for document_id, document in self._load(collection, missing).items():
                out[document_id] = CachedDocument.of(document)
                self._documents.put(collection, document_id, out[document_id])
        return out

    def chunk_vectors(self, collection: str, chunk_ids: Sequence[str]) -> dict[str, SentenceVectors]:
        """The stored sentence vectors of these chunks (absent: none stored)."""
        found, missing = self._vectors.find(collection, chunk_ids)
        if missing and self._load_vectors is not None:
            loaded = self._load_vectors(collection, missing)
            for chunk_id in missing:
                found[chunk_id] = loaded.get(chunk_id)
                self._vectors.put(collection, chunk_id, found[chunk_id])
        return {k: v for k, v in found.items() if v is not None}


_T = TypeVar("_T")


class _Lru(Generic[_T]):
    """A thread-safe least-recently-used map of (collection, id) -> value, holding at most ``capacity``
    by ``weigh`` (by default each value weighs 1: a count)."""

    def __init__(self, capacity: int, weigh: Callable[[_T], int] | None = None) -> None:
        self._capacity = capacity
        self._weigh = weigh or (lambda _: 1)
        self._items: OrderedDict[tuple[str, str], tuple[_T, int]] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def find(self, collection: str, ids: Sequence[str]) -> tuple[dict[str, _T], list[str]]:
        """(what is cached, by id; the ids that are not, each once)."""
        found: dict[str, _T] = {}
        with self._lock:
            for key in ((collection, i) for i in ids):
                if key in self._items:
                    self._items.move_to_end(key)
                    found[key[1]] = self._items[key][0]
        return found, [i for i in dict.fromkeys(ids) if i not in found]

    def put(self, collection: str, key: str, value: _T) -> None:
        weight = self._weigh(value)
        with self._lock:
            previous = self._items.pop((collection, key), None)
            self._held -= previous[1] if previous is not None else 0
            self._items[(collection, key)] = (value, weight)
            self._held += weight
            while self._held > self._capacity and self._items:
                _, (_, dropped) = self._items.popitem(last=False)
                self._held -= dropped


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A sentence inside a retrieved chunk."""

    document: Document
    chunk_id: str
    start: int
    end: int
    text: str
    vector: Vectors | None  # stored at ingestion, or None (embedded now)
    retrieval: float  # the fused score of the chunk it was found in
    chunk_rank: int  # that chunk's rank (0: the best)
    lead_start: int | None  # where the sentence before it starts (None: it opens the document)
    lead_end: int | None  # and where it ends
    path: tuple[str, ...]  # the heading path at its start
    block_end: int | None  # end of the block holding its last character (a paragraph, list item, description)
    blocks: BlockIndex  # its document's blocks (read only for "What is X?" questions: _defines)

    @property
    def document_id(self) -> str:
        return self.document.id


class EvidenceRanker:
    """Scores the sentences of retrieved chunks against the question (``ranking.py`` says how)."""

    def __init__(
        self,
        *,
        embedder: Embedder,
        documents: DocumentCache,
        scorer: SentenceScorer | None = None,
        reader: ReaderModel | None = None,
        reader_candidates: int = 4,
    ) -> None:
        self._embedder = embedder
        self._documents = documents
        self._scorer = scorer or HandScorer()
        self._reader = reader
        self._reader_candidates = reader_candidates

    def rank(self, question: QuestionAnalysis, chunks: list[ScoredChunk], *, collection: str) -> list[Evidence]:
        candidates = self._candidate_sentences(chunks, collection)
        if not candidates:
            return []
        stems = [_stems(c.text) for c in candidates]
        paths = [c.path for c in candidates]
        heading_stems = [_stems(path[-1]) if path else frozenset() for path in paths]
        idf = _idf(question.key_terms, stems)
        # Names already score in the names feature; in term overlap they count half, so what the question
        # asks about them ("who contradicted Viktorov") weighs more than repeating them.
        name_stems = {stem(n) for n in question.names}
        idf = {t: w * (NAME_TERM_WEIGHT if t in name_stems else 1.0) for t, w in idf.items()}
        total_idf = sum(idf.values()) or 1.0
        # A sentence opening "It ..."/"This ..." is read with the one it refers to: "It is January 1, 1970"
        # answers "What is the epoch?" only together with "The epoch is the point where the time starts".
        antecedent = {i: i - 1 for i in range(1, len(candidates)) if follows(candidates[i - 1], candidates[i])}
        context = [
            heading_stems[i] | stems[antecedent[i]] if i in antecedent else heading_stems[i]
            for i in range(len(candidates))
        ]
        overlap = [
            sum(w if t in s else HEADING_TERM_WEIGHT * w if t in h else 0.0 for t, w in idf.items()) / total_idf
            for s, h in zip(stems, context, strict=True)
        ]
        keep = _shortlist(candidates, overlap, antecedent)
        kept_at = {i: k for k, i in enumerate(keep)}
        antecedent = {kept_at[i]: kept_at[j] for i, j in antecedent.items() if i in kept_at and j in kept_at}
        candidates = [candidates[i] for i in keep]
        paths = [paths[i] for i in keep]
        overlap = [overlap[i] for i in keep]
        stems = [stems[i] for i in keep]
        texts = [c.text for c in candidates]
        asked = self._embedder.embed_cached([question.focus])[0]
        semantic = (self._vectors(candidates) @ asked).tolist()
        if antecedent:
            pairs = sorted(antecedent.items())
            together = self._embedder.embed_cached([f"{texts[j]} {texts[i]}" for i, j in pairs]) @ asked
            for (i, _), value in zip(pairs, together.tolist(), strict=True):
                semantic[i] = max(semantic[i], value)
        counted = self._counted_similarity(question.counted, texts)
        key_terms = set(question.key_terms)
        path_stems = [_stems(" ".join(path)) for path in paths]
        heading = [sum(w for t, w in idf.items() if t in held) / total_idf for held in path_stems]
        position = {(c.document.id, c.start): i for i, c in enumerate(candidates)}
        top_semantic, top_lexical = max(semantic), max(overlap)
        ranked: list[Evidence] = []
        for i, candidate in enumerate(candidates):
            doc, start, text = candidate.document, candidate.start, candidate.text
            sentence_words = set(words(text))
            if i in antecedent:
                sentence_words |= set(words(texts[antecedent[i]]))
            lead = position.get((doc.id, candidate.lead_start)) if candidate.lead_start is not None else None
            features = SentenceFeatures(
                semantic=semantic[i],
                lexical=overlap[i],
                answer_type=counted[i] if question.counted is not None else float(holds_answer_type(question, text)),
                names=(
                    sum(mentions(n, sentence_words) for n in question.names) / len(question.names)
                    if question.names
                    else 1.0
                ),
                heading=heading[i],
                retrieval=candidate.retrieval,
                chunk_rank=1.0 / (1.0 + candidate.chunk_rank),
                semantic_gap=top_semantic - semantic[i],
                lexical_gap=top_lexical - overlap[i],
                length=math.log1p(len(text.split())),
                new_terms=len(stems[i] - key_terms) / len(stems[i]) if stems[i] else 0.0,
                lead_semantic=semantic[lead] if lead is not None else 0.0,
                lead_lexical=overlap[lead] if lead is not None else 0.0,
                defines=_defines(question.subject, candidate) if question.subject else 0.0,
            )
            ranked.append(
                Evidence(
                    document_id=doc.id,
                    source=doc.source,
                    chunk_id=candidate.chunk_id,
                    start=start,
                    end=candidate.end,
                    text=text,
                    score=round(self._scorer.score(features), 4),
                    page=doc.page_at(start),
                    claim=next((c for c in doc.claims if c.start == start), None),
                    heading_path=PATH_SEPARATOR.join(paths[i]),
                    title=doc.title,
                    block_end=candidate.block_end,
                    features=features.as_dict(),
                )
            )
        ranked.sort(key=lambda e: e.score, reverse=True)
        ranked = [e for e in ranked if not addresses_reader(e.text)]  # a document's instruction is not evidence
        if self._reader is None:
            return ranked
        lead_of = {(c.document.id, c.start): c for c in candidates}
        return self._read(question, ranked, lead_of)

    def _read(
        self, question: QuestionAnalysis, ranked: list[Evidence], candidates: dict[tuple[str, int], _Candidate]
    ) -> list[Evidence]:
        """The reader reads the cheap scorer's best candidates; its logit is kept on each as the feature
        ``reader`` (the answerability model's evidence that some sentence answers). The order stands: the
        reader did not choose sentences better than the cheap scorer (BENCHMARKS.md)."""
        assert self._reader is not None
        head = ranked[: self._reader_candidates]
        inputs = []
        for e in head:
            c = candidates[(e.document_id, e.start)]
            previous = c.document.text[c.lead_start : c.lead_end] if c.lead_start is not None else ""
            inputs.append(ReaderInput(question.text, e.text, e.heading_path, previous))
        logits = self._reader.relevance(inputs, [e.score for e in head])
        read = [replace(e, features={**e.features, "reader": round(x, 4)}) for e, x in zip(head, logits, strict=True)]
        return read + ranked[len(head) :]

    def _vectors(self, candidates: list[_Candidate]) -> Vectors:
        """The candidates' vectors: stored at ingestion where there are, embedded (and cached) otherwise."""
        missing = [c.text for c in candidates if c.vector is None]
        embedded = iter(self._embedder.embed_cached(missing)) if missing else iter(())
        rows = [c.vector if c.vector is not None else next(embedded) for c in candidates]
        return np.vstack(rows) if rows else np.zeros((0, self._embedder.dimension), dtype=np.float32)

    def prime(self, chunks: list[Chunk], *, collection: str, max_sentences: int = 1000) -> int:
        """Load these chunks' documents and embed their sentences that have no stored vectors into the cache
        ahead of questions; returns how many sentences are ready."""
        candidates = self._candidate_sentences([ScoredChunk(c, 0.0) for c in chunks], collection)[:max_sentences]
        self._embedder.embed_cached([c.text for c in candidates if c.vector is None])
        return len(candidates)

    def _counted_similarity(self, counted: str | None, texts: list[str]) -> list[float]:
        """For "how many X" questions: how close the noun after each number in a sentence is to X."""
        if counted is None:
            return [0.0] * len(texts)
        phrases = [[m.group(1) for m in _NUMBER_PHRASE.finditer(t)] for t in texts]
        flat = sorted({p for ps in phrases for p in ps})
        if not flat:
            return [0.0] * len(texts)
        vectors = self._embedder.embed_cached([counted, *flat])
        sims = dict(zip(flat, (vectors[1:] @ vectors[0]).tolist(), strict=True))
        return [max((sims[p] for p in ps), default=0.0) for ps in phrases]

    def _candidate_sentences(self, chunks: list[ScoredChunk], collection: str) -> list[_Candidate]:
        seen: set[tuple[str, int]] = set()
        out: list[_Candidate] = []
        entries = self._documents.entries(collection, [s.chunk.document_id for s in chunks])
        stored = self._documents.chunk_vectors(collection, [s.chunk.id for s in chunks])
        for rank, scored in enumerate(chunks):
            chunk = scored.chunk
            entry = entries.get(chunk.document_id)
            if entry is None:  # deleted between retrieval and now: its chunks are no longer evidence
                continue
            vectors = stored.get(chunk.id)
            if vectors is not None and vectors.spans_key != entry.spans_key:
                vectors = None  # computed for other spans (another splitter): embedded instead
            doc = entry.document
            starts, ends = entry.spans[:, 0], entry.spans[:, 1]
            for row in overlapping(entry.spans, chunk.start, chunk.end):
                start, end = int(starts[row]), int(ends[row])
                if (doc.id, start) not in seen:
                    seen.add((doc.id, start))
                    vector = None
                    if vectors is not None and 0 <= row - vectors.first < len(vectors.vectors):
                        vector = vectors.vectors[row - vectors.first]
                    lead = int(starts[row - 1]) if row > 0 else None
                    lead_end = int(ends[row - 1]) if row > 0 else None
                    text = doc.text[start:end]
                    path = entry.blocks.path_at(start)
                    block = entry.blocks.at(end - 1)
                    block_end = entry.blocks.blocks[block].end if block is not None else None
                    out.append(
                        _Candidate(
                            document=doc,
                            chunk_id=chunk.id,
                            start=start,
                            end=end,
                            text=text,
                            vector=vector,
                            retrieval=scored.score,
                            chunk_rank=rank,
                            lead_start=lead,
                            lead_end=lead_end,
                            path=path,
                            block_end=block_end,
                            blocks=entry.blocks,
                        )
                    )
        return out


_PROSE = frozenset({"paragraph", "list_item", "description"})


def _defines(subject: tuple[str, ...], candidate: _Candidate) -> float:
    """How surely the candidate defines the subject (definitions.defines), given what it follows: the
    term it is quoted with, the headings right above the block it opens, or the sentence before it."""
    blocks, text, start = candidate.blocks, candidate.document.text, candidate.start
    block = blocks.at(candidate.end - 1)
    if block is not None and blocks.blocks[block].kind not in _PROSE:
        return 0.0  # a heading, a term, a table row or code defines nothing itself
    head = blocks.at(start)
    if head is not None and head != block and blocks.blocks[head].kind in ("heading", "term"):
        # a term quoted with the first sentence of its description, as one span
        return defines(
            subject, candidate.text, intro=" ".join(text[start : blocks.blocks[head].end].split()), opens_block=True
        )
    if block is not None and blocks.blocks[block].start == start:
        return defines(subject, candidate.text, intro=_headings_above(text, blocks, block), opens_block=True)
    lead = text[candidate.lead_start : start] if candidate.lead_start is not None else None
    return defines(subject, candidate.text, intro=lead, opens_block=False)


def _headings_above(text: str, blocks: BlockIndex, block: int | None) -> str | None:
    """The run of headings and definition terms right above a block, one per line (None: none)."""
    if block is None:
        return None
    first = block
    while first > 0 and blocks.blocks[first - 1].kind in ("heading", "term"):
        first -= 1
    return "\n".join(" ".join(text[b.start : b.end].split()) for b in blocks.blocks[first:block]) or None


@lru_cache(maxsize=16384)
def _stems(text: str) -> frozenset[str]:
    """The stemmed terms of a sentence or heading path. Cached: headings repeat over every sentence under
    them, and a sentence comes back with each question retrieving its chunk (two thirds of the calls at
    10k chunks; stemming was the largest part of ranking after the store reads)."""
    return frozenset(stem_terms(text))


def _shortlist(candidates: list[_Candidate], overlap: list[float], antecedent: dict[int, int]) -> list[int]:
    """Indexes of the sentences worth embedding: the best by term overlap (ties: retrieval order), each
    with the sentence after it (answers often follow their lead-in) and, when it refers back, the one
    before it; capped so a query embeds at most about MAX_SENTENCES short texts however long the retrieved
    chunks are."""
    if len(candidates) <= MAX_SENTENCES:
        return list(range(len(candidates)))
    order = sorted(range(len(candidates)), key=lambda i: (-overlap[i], i))[: MAX_SENTENCES // 2]
    keep = set(order)
    for i in order:
        if i + 1 < len(candidates) and candidates[i + 1].document.id == candidates[i].document.id:
            keep.add(i + 1)
    for i in sorted(keep):  # a sentence opening with "This ..." is quoted with the one it refers to
        if len(keep) >= MAX_SENTENCES:
            break
        if i in antecedent:
            keep.add(antecedent[i])
    for i in range(len(candidates)):  # fill with retrieval order (best chunks first)
        if len(keep) >= MAX_SENTENCES:
            break
        keep.add(i)
    return sorted(keep)


def _idf(terms: tuple[str, ...], sentence_stems: Sequence[AbstractSet[str]]) -> dict[str, float]:
    n = len(sentence_stems)
    return {t: math.log(1.0 + n / (1.0 + sum(t in s for s in sentence_stems))) for t in terms}
