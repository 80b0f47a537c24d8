"""``/ask`` at 1k / 10k / 100k chunks over real HTTP (issue 13), embedded and server Chroma, next to the floor.

Corpus: the first python-docs documents (Debian's python3-doc) up to ``--base`` chunks, loaded, chunked and
split into sentences by the real pipeline code, their chunks and sentences embedded for real once. Larger
corpora are copies of those documents under new ids and sources, every vector (chunk and sentence) with
small Gaussian noise, renormalised (cosine ≈ 0.95 to the original), written through ``ChromaStore`` exactly as
ingestion writes them — so a question reads stored sentence vectors as it would in production.

For each size: a fresh process writes the new copies and measures the floor (the question's embedding
alone, p50, and ``ChromaStore.query_dense_ids`` alone, p50, over the same questions); then ``qa-service
serve`` starts (it builds and persists the lexical index), every distinct question of the eval datasets is
asked once over HTTP by one client in extractive mode (none repeats, so no cache answers), the server's RSS
is read, and the server is restarted to time start → ``/readyz`` with the persisted index.
"""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from evals.corpora import corpus_files
from evals.dataset import DATASETS_DIR, load_dataset
from evals.metrics import percentile
from qa_service.domain import Chunk, Document
from qa_service.embeddings import SentenceTransformerEmbedder, Vectors
from qa_service.ingest.chunking import chunk_document
from qa_service.ingest.pipeline import prepare_document
from qa_service.ingest.sentences import document_sentences
from qa_service.services import build_services
from qa_service.settings import Settings, packaged_embedding_model_path
from qa_service.store import StoredDocument
from qa_service.store.records import SentenceVectors
from tests.servers import VENV_BIN, free_port, running

NOISE = 0.017
CANDIDATES = 50  # the dense stage's top-k, as retrieval asks Chroma
DOCUMENTS_PER_WRITE = 20
Row = dict[str, float | str]


@dataclass(frozen=True)
class BaseDocument:
    document: Document
    chunks: list[Chunk]
    chunk_vectors: Vectors
    spans: list[tuple[int, int]]
    sentence_vectors: Vectors


def distinct_questions() -> list[str]:
    """Every distinct question of the eval datasets (answers are not read here: latency only)."""
    seen: dict[str, None] = {}
    for path in sorted(DATASETS_DIR.glob("*.jsonl")):
        if path.name.startswith(("claims_", "requests.", "followups.")):  # not question cases
            continue
        for case in load_dataset(path):
            seen.setdefault(case.question, None)
    return list(seen)


def base_corpus(embedder: SentenceTransformerEmbedder, settings: Settings, target: int) -> list[BaseDocument]:
    prepared: list[tuple[Document, list[Chunk], list[tuple[int, int]]]] = []
    for path in corpus_files("python-docs"):
        document = prepare_document(path.read_bytes(), path.name)
        chunks = chunk_document(
            document, chunk_size=settings.chunking.chunk_size, chunk_overlap=settings.chunking.chunk_overlap
        )
        prepared.append((document, chunks, document_sentences(document.text, document.blocks)))
        if sum(len(c) for _, c, _ in prepared) >= target:
            break
    texts = [c.search_text for _, chunks, _ in prepared for c in chunks]
    sentences = [d.text[a:b] for d, _, spans in prepared for a, b in spans]
    vectors = embedder.embed_texts([*texts, *sentences])
    out, row, sentence_row = [], 0, len(texts)
    for document, chunks, spans in prepared:
        out.append(
            BaseDocument(
                document,
                chunks,
                vectors[row : row + len(chunks)],
                spans,
                vectors[sentence_row : sentence_row + len(spans)],
            )
        )
        row += len(chunks)
        sentence_row += len(spans)
    return out


def _noisy(vectors: Vectors, rng: np.random.Generator) -> Vectors:
    noisy = vectors + rng.normal(0.0, NOISE, size=vectors.shape).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    return noisy.astype(np.float32)


def copies(base: list[BaseDocument], first: int, last: int) -> Iterator[StoredDocument]:
    """Copies ``first``..``last - 1`` of the base documents; copy 0 is the real thing, vectors unchanged."""
    for k in range(first, last):
        rng = np.random.default_rng(k)
        for item in base:
            document, chunk_vectors, sentence_vectors = item.document, item.chunk_vectors, item.sentence_vectors
            if k:
                doc_id = hashlib.sha256(f"{document.id}:{k}".encode()).hexdigest()[:16]
                document = dataclasses.replace(document, id=doc_id, source=f"copy{k:03d}-{document.source}")
                chunk_vectors, sentence_vectors = _noisy(chunk_vectors, rng), _noisy(sentence_vectors, rng)
            source = document.source
            chunks = [
                dataclasses.replace(c, id=f"{document.id}:{c.index:05d}", document_id=document.id, source=source)
                for c in item.chunks
            ]
            vectors = SentenceVectors(SentenceVectors.key(item.spans), sentence_vectors, spans=item.spans)
            yield StoredDocument(document, chunks, chunk_vectors, sentence_vectors=vectors)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def fill_and_floor(
    settings: Settings, base: list[BaseDocument], first: int, last: int, questions: list[str]
) -> dict[str, float]:
    """Run in a fresh process (an embedded Chroma must not stay open beside the server): write copies
    ``first``..``last - 1``, then time the floor over ``questions``."""
    embedder = SentenceTransformerEmbedder(packaged_embedding_model_path())
    services = build_services(settings, embedder=embedder)
    store, collection = services.store, settings.collection
    items = list(copies(base, first, last))
    started = time.perf_counter()
    for i in range(0, len(items), DOCUMENTS_PER_WRITE):
        store.put_documents(collection, items[i : i + DOCUMENTS_PER_WRITE], fingerprint=services.ingestor.fingerprint)
    write_s = time.perf_counter() - started
    chunks = store.chunk_count(collection)
    for question in questions[:5]:  # warm the model and the HNSW pages
        store.query_dense_ids(collection, embedder.embed_texts([question])[0], CANDIDATES)
    embed, query = [], []
    for question in questions:
        started = time.perf_counter()
        vector = embedder.embed_texts([question])[0]
        embed.append(_ms(started))
        started = time.perf_counter()
        store.query_dense_ids(collection, vector, CANDIDATES)
        query.append(_ms(started))
    return {
        "chunks": float(chunks),
        "written_chunks_per_s": sum(len(i.chunks) for i in items) / write_s,
        "embed_p50": statistics.median(embed),
        "chroma_p50": statistics.median(query),
    }


def _rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def ask_over_http(env: dict[str, str], log: Path, questions: list[str]) -> Row:
    """Start ``qa-service serve``, ask every question once, read its RSS, stop; start again to time ready."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(VENV_BIN / "qa-service"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    with running(command, ready_url=f"{url}/readyz", log=log, env=env, timeout_s=900) as process:
        first_ready_s = time.perf_counter() - started
        wall, server = [], []
        with httpx.Client(base_url=url, timeout=60.0) as http:
            for question in questions:
                began = time.perf_counter()
                response = http.post("/ask", json={"question": question, "mode": "extractive"})
                wall.append(_ms(began))
                response.raise_for_status()
                server.append(float(response.json()["timings_ms"]["total"]))
        rss, peak = _rss_mb(process.pid)
    started = time.perf_counter()
    with running(command, ready_url=f"{url}/readyz", log=log.with_suffix(".restart.log"), env=env, timeout_s=900):
        restart_ready_s = time.perf_counter() - started
    return {
        "questions": float(len(wall)),
        "http_p50": statistics.median(wall),
        "http_p95": percentile(wall, 95),
        "server_p50": statistics.median(server),
        "server_p95": percentile(server, 95),
        "rss_mb": rss,
        "peak_rss_mb": peak,
        "first_ready_s": first_ready_s,
        "restart_ready_s": restart_ready_s,
    }


def run_ask_at_scale(sizes: list[int], base_chunks: int, tmp: Path, chroma_url: str) -> list[Row]:
    settings = Settings(data_dir=tmp / "unused", llm={"backend": "none"})
    embedder = SentenceTransformerEmbedder(packaged_embedding_model_path())
    started = time.perf_counter()
    base = base_corpus(embedder, settings, base_chunks)
    per_copy = sum(len(b.chunks) for b in base)
    print(f"# base: {len(base)} documents, {per_copy} chunks, {sum(len(b.spans) for b in base)} sentences "
          f"embedded in {time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    del embedder
    questions = distinct_questions()
    backends = {
        "embedded": (Settings(data_dir=tmp / "embedded", llm={"backend": "none"}), {}),
        "server": (
            Settings(data_dir=tmp / "client", chroma={"url": chroma_url}, llm={"backend": "none"}),
            {"QA_CHROMA__URL": chroma_url},
        ),
    }
    spawn = multiprocessing.get_context("spawn")
    rows: list[Row] = []
    for backend, (backend_settings, extra_env) in backends.items():
        written = 0
        for size in sizes:
            wanted = max(1, round(size / per_copy))
            with spawn.Pool(1) as pool:
                floor = pool.apply(fill_and_floor, (backend_settings, base, written, wanted, questions))
            written = wanted
            env = {
                "QA_DATA_DIR": str(backend_settings.data_dir),
                "QA_LLM__BACKEND": "none",
                "QA_LIMITS__REQUESTS_PER_MINUTE": "0",
                "QA_LOG_FORMAT": "text",
                "OMP_NUM_THREADS": "1",
                **extra_env,
            }
            row: Row = {"backend": backend, "size": float(size), **floor}
            row.update(ask_over_http(env, tmp / f"serve-{backend}-{size}.log", questions))
            row["floor_p50"] = float(row["embed_p50"]) + float(row["chroma_p50"])
            rows.append(row)
            print(f"# {row}", flush=True)
    return rows


def print_ask_at_scale(rows: list[Row]) -> None:
    def f(row: Row, key: str) -> float:
        return float(row[key])

    print("| store | chunks | floor p50 (embed + Chroma) | **`/ask` HTTP p50 / p95** | p95 ÷ p50 | p50 ÷ floor "
          "| server-side p50 / p95 | server RSS MiB (peak) | start → ready s (first / restart) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['backend']} | {int(f(r, 'chunks')):,} | {f(r, 'floor_p50'):.1f} ({f(r, 'embed_p50'):.1f} + "
            f"{f(r, 'chroma_p50'):.1f}) | **{f(r, 'http_p50'):.1f} / {f(r, 'http_p95'):.1f}** "
            f"| {f(r, 'http_p95') / f(r, 'http_p50'):.2f} | {f(r, 'http_p50') / f(r, 'floor_p50'):.1f}× "
            f"| {f(r, 'server_p50'):.1f} / {f(r, 'server_p95'):.1f} "
            f"| {f(r, 'rss_mb'):,.0f} ({f(r, 'peak_rss_mb'):,.0f}) "
            f"| {f(r, 'first_ready_s'):.1f} / {f(r, 'restart_ready_s'):.1f} |"
        )
    questions = int(f(rows[0], "questions")) if rows else 0
    print(f"\n{questions} distinct questions (every eval dataset), each asked once per server, one client, extractive.")
    print("Times in ms. Floor = the question's embedding alone + `ChromaStore.query_dense_ids` (top-50) alone, p50,")
    print("measured in the same run over the same questions, one math thread, as the server runs.\n")
