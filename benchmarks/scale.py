"""Scale benchmarks (issue: scale out): retrieval cost vs corpus size, embedded vs server Chroma, a numpy
brute-force reference, ingestion vs raw encode on both stores, ``/ask`` throughput with 1/2/4 workers, and
``/ask`` over HTTP at 1k/10k/100k chunks next to its floor (``benchmarks/scale_ask.py``).

Run: ``make bench-scale`` (or ``python -m benchmarks.scale``); prints a Markdown section for BENCHMARKS.md.

Corpus at 1k/10k/100k chunks: ``--distinct`` real chunks of the python-docs corpus (Debian's python3-doc),
embedded for real once; chunk i reuses the text of real chunk ``i mod distinct`` and its vector plus small
Gaussian noise, renormalised (cosine ≈ 0.95 to the original), so vectors cluster like real ones without
encoding 100k chunks on two CPUs. Queries are real questions (the python-docs and seed eval sets),
embedded for real on every call (the query cache is cleared first): "end to end" includes the embedding.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np
import numpy.typing as npt

from benchmarks.report import print_report
from evals.corpora import corpus_files
from evals.dataset import DATASETS_DIR, load_dataset
from evals.metrics import percentile
from qa_service.domain import Chunk, Document
from qa_service.embeddings import SentenceTransformerEmbedder, Vectors
from qa_service.ingest.chunking import chunk_document
from qa_service.ingest.pipeline import prepare_document
from qa_service.services import Services, build_services
from qa_service.settings import Settings, packaged_embedding_model_path
from qa_service.store import StoredDocument
from tests.servers import chroma_server

CHUNKS_PER_DOCUMENT = 10
DOCUMENTS_PER_WRITE = 200
CANDIDATES = 50
Row = dict[str, float | str]


def real_chunks(embedder: SentenceTransformerEmbedder, distinct: int) -> tuple[list[str], Vectors]:
    texts: list[str] = []
    for path in corpus_files("python-docs"):
        document = prepare_document(path.read_bytes(), str(path))
        texts += [c.text for c in chunk_document(document, chunk_size=700, chunk_overlap=100)]
        if len(texts) >= distinct:
            break
    texts = texts[:distinct]
    return texts, embedder.embed_texts(texts)


def synthetic_corpus(texts: list[str], vectors: Vectors, size: int, seed: int = 0) -> tuple[list[str], Vectors]:
    rng = np.random.default_rng(seed)
    picks = np.arange(size) % len(texts)
    noisy = vectors[picks] + rng.normal(0.0, 0.017, size=(size, vectors.shape[1])).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    return [texts[i] for i in picks], noisy.astype(np.float32)


def stored_documents(texts: list[str], vectors: Vectors) -> Iterator[StoredDocument]:
    """Documents of CHUNKS_PER_DOCUMENT chunks whose offsets point into the document text."""
    for first in range(0, len(texts), CHUNKS_PER_DOCUMENT):
        doc_id = f"syn{first:07d}"
        parts, chunks, offset = [], [], 0
        for index, text in enumerate(texts[first : first + CHUNKS_PER_DOCUMENT]):
            chunks.append(Chunk(f"{doc_id}:{index}", doc_id, index, offset, offset + len(text), text, doc_id))
            parts.append(text)
            offset += len(text) + 2
        document = Document(doc_id, doc_id, "", "\n\n".join(parts), "text/plain")
        yield StoredDocument(document, chunks, vectors[first : first + len(chunks)])


def fill(services: Services, collection: str, texts: list[str], vectors: Vectors) -> float:
    """Write the corpus through ``ChromaStore.put_documents``; returns chunks/s."""
    items = list(stored_documents(texts, vectors))
    started = time.perf_counter()
    for i in range(0, len(items), DOCUMENTS_PER_WRITE):
        services.store.put_documents(collection, items[i : i + DOCUMENTS_PER_WRITE])
    return len(texts) / (time.perf_counter() - started)


def _timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000.0


def numpy_top_k(matrix: Vectors, vector: Vectors, k: int) -> npt.NDArray[np.intp]:
    """The physical-limit reference: exact cosine top-k of unit vectors by one matrix product."""
    scores = matrix @ vector
    top = np.argpartition(-scores, k)[:k]
    return top[np.argsort(-scores[top])]


def bench_retrieval(services: Services, collection: str, matrix: Vectors, questions: list[str]) -> Row:
    started = time.perf_counter()
    services.retriever.lexical_index(collection)  # built once, as at API start-up
    index_s = time.perf_counter() - started
    embedder, store, retriever = services.embedder, services.store, services.retriever
    vectors = embedder.embed_texts(questions)
    for q, v in zip(questions[:5], vectors[:5], strict=True):  # warm caches and HNSW pages
        store.query_dense_ids(collection, v, CANDIDATES)
        retriever.retrieve(q, collection=collection, top_k=6)
    embed, chroma, dense, brute, e2e = [], [], [], [], []
    for question, vector in zip(questions, vectors, strict=True):
        embed.append(_timed(partial(embedder.embed_texts, [question])))
        chroma.append(_timed(partial(store.query_dense_ids, collection, vector, CANDIDATES)))
        embedder.embed_cached([question])  # the dense stage alone: its query vector is already there
        dense.append(_timed(partial(retriever.retrieve_dense, question, collection=collection, top_k=CANDIDATES)))
        brute.append(_timed(partial(numpy_top_k, matrix, vector, CANDIDATES)))
        embedder.clear_cache()  # the question's embedding is part of what end to end measures
        e2e.append(_timed(partial(retriever.retrieve, question, collection=collection, top_k=6)))
    return {
        "index_build_s": index_s,
        "embed_p50": statistics.median(embed),
        "chroma_p50": statistics.median(chroma),
        "dense_p50": statistics.median(dense),
        "dense_p95": percentile(dense, 95),
        "numpy_p50": statistics.median(brute),
        "numpy_p95": percentile(brute, 95),
        "e2e_p50": statistics.median(e2e),
        "e2e_p95": percentile(e2e, 95),
        "e2e_qps": 1000.0 * len(e2e) / sum(e2e),
    }


@contextmanager
def stores(tmp: Path) -> Iterator[dict[str, Settings]]:
    """Settings for an embedded Chroma and for a Chroma server, both fresh."""
    with chroma_server(tmp / "server" / "data") as url:
        yield {
            "embedded": Settings(data_dir=tmp / "embedded", llm={"backend": "none"}),
            "server": Settings(data_dir=tmp / "client", chroma={"url": url}, llm={"backend": "none"}),
        }


def run_retrieval(sizes: list[int], distinct: int, embedder: SentenceTransformerEmbedder) -> list[Row]:
    texts, vectors = real_chunks(embedder, distinct)
    questions = [c.question for name in ("python_docs", "seed") for c in load_dataset(DATASETS_DIR / f"{name}.jsonl")]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, stores(Path(tmp)) as settings_by_backend:
        for size in sizes:
            corpus_texts, matrix = synthetic_corpus(texts, vectors, size)
            for backend, settings in settings_by_backend.items():
                services = build_services(settings, embedder=embedder)
                collection = f"scale-{size}"
                write_rate = fill(services, collection, corpus_texts, matrix)
                row: Row = {"backend": backend, "chunks": size, "write_chunks_per_s": write_rate}
                row.update(bench_retrieval(services, collection, matrix, questions))
                rows.append(row)
                print(f"# {row}", flush=True)
    return rows


def main() -> None:
    from benchmarks.scale_ask import print_ask_at_scale, run_ask_at_scale
    from benchmarks.scale_http import run_ask_throughput, run_ingestion

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--distinct", type=int, default=1000, help="real python-docs chunks behind the corpus")
    parser.add_argument("--copies", type=int, default=60, help="seed copies for the ingestion benchmark")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--seconds", type=float, default=20.0, help="load duration per worker count")
    parser.add_argument("--parts", default="retrieval,ingestion,ask,ask-at-scale", help="which parts (comma-separated)")
    parser.add_argument("--ask-sizes", default="1000,10000,100000", help="corpus sizes for /ask over HTTP")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    embedder = SentenceTransformerEmbedder(packaged_embedding_model_path())
    sizes = [int(s) for s in args.sizes.split(",")]
    retrieval = run_retrieval(sizes, args.distinct, embedder) if "retrieval" in parts else []
    ingestion = run_ingestion(args.copies, embedder) if "ingestion" in parts else []
    throughput = run_ask_throughput([int(w) for w in args.workers.split(",")], args.seconds) if "ask" in parts else []
    at_scale: list[Row] = []
    if "ask-at-scale" in parts:
        with tempfile.TemporaryDirectory() as tmp, chroma_server(Path(tmp) / "chroma" / "data") as url:
            at_scale = run_ask_at_scale([int(s) for s in args.ask_sizes.split(",")], args.distinct, Path(tmp), url)
    print_report(retrieval, ingestion, throughput, distinct=args.distinct)
    if at_scale:
        print_ask_at_scale(at_scale)


if __name__ == "__main__":
    main()
