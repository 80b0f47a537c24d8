"""Core benchmarks (issue: grounded QA core): ingestion vs raw encode, /ask latency per mode.

Run: ``make bench`` (or ``python -m benchmarks.core``); prints a Markdown section for BENCHMARKS.md.
Ingestion: the seed article copied N times, each copy with its own first line (so content hashes
differ), ingested through the real pipeline into a fresh embedded Chroma, next to
``SentenceTransformer.encode`` over exactly the texts the pipeline embedded (chunks and sentences), in the
same run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from evals.dataset import DATASETS_DIR, load_dataset
from evals.metrics import percentile
from qa_service.api.app import create_app
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.ingest.chunking import chunk_document
from qa_service.ingest.pipeline import prepare_document
from qa_service.ingest.sentences import document_sentences
from qa_service.services import build_services
from qa_service.settings import Settings, packaged_embedding_model_path

ROOT = Path(__file__).resolve().parent.parent
SEED = next((ROOT / "seeds").glob("*.txt"))


def _copies(folder: Path, n: int) -> list[Path]:
    text = SEED.read_text(encoding="utf-8")
    paths = []
    for i in range(n):
        path = folder / f"copy_{i:04d}.txt"
        path.write_text(f"Copy {i} of the seed article.\n\n{text}", encoding="utf-8")
        paths.append(path)
    return paths


def embedded_texts(files: list[Path], settings: Settings) -> tuple[int, list[str]]:
    """(chunk count, texts) that ingestion embeds for these files: every chunk's search text, then every
    evidence sentence (stored as sentence vectors)."""
    chunks: list[str] = []
    sentences: list[str] = []
    for f in files:
        document = prepare_document(f.read_bytes(), f.name)
        chunking = settings.chunking
        found = chunk_document(document, chunk_size=chunking.chunk_size, chunk_overlap=chunking.chunk_overlap)
        chunks += [c.search_text for c in found]
        if settings.ingest.sentence_vectors:
            sentences += [document.text[a:b] for a, b in document_sentences(document.text, document.blocks)]
    return len(chunks), chunks + sentences


def bench_ingestion(copies: int, embedder: SentenceTransformerEmbedder) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        return {"documents": copies, **bench_ingestion_of(_copies(docs, copies), embedder)}


def man_pages() -> list[Path]:
    """The man-page eval corpus's five gzipped pages (issue 38's trial was ten man pages, 565 KB)."""
    from evals.corpora import corpus_files

    return corpus_files("man-pages")


def bench_ingestion_of(files: list[Path], embedder: SentenceTransformerEmbedder) -> dict[str, float]:
    """These files through the real pipeline into a fresh embedded Chroma, between two raw encodes of
    exactly the texts it embeds."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        chunks, texts = embedded_texts(files, settings)
        raw_before = _raw_encode(embedder, texts)
        services = build_services(settings, embedder=embedder)
        started = time.perf_counter()
        report = services.ingestor.ingest_paths(files, collection="bench")
        ingest_s = time.perf_counter() - started
        raw_after = _raw_encode(embedder, texts)
        assert report.chunks == chunks, (report.chunks, chunks)
    raw_s = min(raw_before, raw_after)
    return {"files": len(files), "bytes": sum(f.stat().st_size for f in files), "chunks": chunks,
            "texts": len(texts), "ingest_s": ingest_s, "ingest_chunks_per_s": chunks / ingest_s,
            "raw_before_chunks_per_s": chunks / raw_before, "raw_after_chunks_per_s": chunks / raw_after,
            "ratio": raw_s / ingest_s}  # fmt: skip


def _raw_encode(embedder: SentenceTransformerEmbedder, texts: list[str]) -> float:
    """Seconds ``SentenceTransformer.encode`` takes over ``texts`` (the model alone, as ingestion batches)."""
    model = embedder._model
    started = time.perf_counter()
    model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - started


def bench_ask(modes: list[str], embedder: SentenceTransformerEmbedder) -> dict[str, dict[str, float]]:
    cases = load_dataset(DATASETS_DIR / "seed.jsonl")
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        services = build_services(settings, embedder=embedder)
        services.ingestor.ingest_paths([SEED], collection=settings.collection)
        with TestClient(create_app(settings, services=services)) as client:
            for mode in modes:
                embedder.clear_cache()
                client.post("/ask", json={"question": "warm-up question about Sweida", "mode": mode})
                wall = []
                for case in cases:
                    started = time.perf_counter()
                    response = client.post("/ask", json={"question": case.question, "mode": mode})
                    wall.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.text
                out[mode] = {"n": len(wall), "p50_ms": statistics.median(wall), "p95_ms": percentile(wall, 95)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--modes", default="extractive,auto,generative")
    parser.add_argument("--man-pages", action="store_true", help="only ingestion, of the man-page eval corpus")
    args = parser.parse_args()
    embedder = SentenceTransformerEmbedder(packaged_embedding_model_path())
    if args.man_pages:
        m = bench_ingestion_of(man_pages(), embedder)
        print(f"| man pages ({m['files']:.0f} files, {m['bytes'] / 1e3:.0f} KB gzipped, {m['chunks']:.0f} chunks; "
              f"{m['texts']:.0f} texts embedded) | chunks/s |\n|---|---|")  # fmt: skip
        print(f"| raw encode before | {m['raw_before_chunks_per_s']:.1f} |")
        print(f"| qa-service ingest ({m['ingest_s']:.0f} s) | {m['ingest_chunks_per_s']:.1f} |")
        print(f"| raw encode after | {m['raw_after_chunks_per_s']:.1f} |")
        print(f"| **ingest ÷ best raw** | **{m['ratio']:.2f}** |")
        return
    ingest = bench_ingestion(args.copies, embedder)
    ask = bench_ask(args.modes.split(","), embedder)
    print(
        f"### Core — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}\n"
    )
    print("| ingestion (seed × {documents}, {chunks} chunks; {texts} texts embedded) | chunks/s |".format(**ingest))
    print("|---|---|")
    print(f"| raw `SentenceTransformer.encode` (before ingest) | {ingest['raw_before_chunks_per_s']:.1f} |")
    print(f"| qa-service ingest (load, clean, chunk, embed, Chroma) | {ingest['ingest_chunks_per_s']:.1f} |")
    print(f"| raw `SentenceTransformer.encode` (after ingest) | {ingest['raw_after_chunks_per_s']:.1f} |")
    print(f"| **ingest ÷ best raw** | **{ingest['ratio']:.2f}** |\n")
    print("| `/ask` mode (seed eval questions, HTTP in-process) | n | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    for mode, m in ask.items():
        print(f"| {mode} | {m['n']:.0f} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} |")


if __name__ == "__main__":
    main()
