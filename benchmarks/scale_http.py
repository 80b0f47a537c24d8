"""Scale benchmarks over real processes: ingestion into embedded vs server Chroma next to raw encode, and
``/ask`` throughput of ``qa-service serve --workers N`` (real uvicorn on loopback) sharing one Chroma server."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

from benchmarks.core import _copies, _raw_encode, embedded_texts
from evals.dataset import DATASETS_DIR, load_dataset
from evals.metrics import percentile
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.services import build_services
from qa_service.settings import Settings
from tests.servers import VENV_BIN, chroma_server, free_port, running

SEED = next((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))
CLIENTS = 8  # concurrent HTTP clients driving /ask
Row = dict[str, float | str]


def run_ingestion(copies: int, embedder: SentenceTransformerEmbedder) -> list[Row]:
    """Seed copies through the real pipeline into each store, next to raw encode of the same texts (chunks and
    sentences); rates are in chunks/s either way. Both sides are measured twice, interleaved (raw, ingest, raw,
    ingest, each ingest into a fresh collection), and each keeps its best run: this machine's encode rate drifts
    by 10 % between runs, so one run against the best of two would compare noise."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp_name, chroma_server(Path(tmp_name) / "server" / "data") as url:
        tmp = Path(tmp_name)
        docs = tmp / "docs"
        docs.mkdir()
        files = _copies(docs, copies)
        chunks, texts = embedded_texts(files, Settings(data_dir=tmp / "unused"))
        for backend, chroma in (("embedded", {}), ("server", {"url": url})):
            settings = Settings(data_dir=tmp / backend, chroma=chroma, llm={"backend": "none"})
            services = build_services(settings, embedder=embedder)
            raw_runs: list[float] = []
            ingest_runs: list[float] = []
            for run in range(2):
                raw_runs.append(_raw_encode(embedder, texts))
                started = time.perf_counter()
                report = services.ingestor.ingest_paths(files, collection=f"ingest{run}")
                ingest_runs.append(time.perf_counter() - started)
                assert report.chunks == chunks, (report.chunks, chunks)
            raw_s, ingest_s = min(raw_runs), min(ingest_runs)
            rows.append({"backend": backend, "chunks": chunks, "texts": len(texts),
                         "ingest_chunks_per_s": chunks / ingest_s, "raw_chunks_per_s": chunks / raw_s,
                         "ratio": raw_s / ingest_s, "ingest_runs_s": " / ".join(f"{s:.1f}" for s in ingest_runs),
                         "raw_runs_s": " / ".join(f"{s:.1f}" for s in raw_runs)})  # fmt: skip
            print(f"# {rows[-1]}", flush=True)
    return rows


def _load(url: str, questions: list[str], seconds: float) -> tuple[int, list[float], int]:
    """CLIENTS threads post /ask (extractive) in a loop for ``seconds``; returns (done, latencies, errors)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(offset: int) -> None:
        nonlocal errors
        with httpx.Client(base_url=url, timeout=60.0) as http:
            i = offset
            while time.monotonic() < deadline:
                started = time.perf_counter()
                response = http.post("/ask", json={"question": questions[i % len(questions)], "mode": "extractive"})
                elapsed = (time.perf_counter() - started) * 1000.0
                with lock:
                    if response.status_code == 200:
                        latencies.append(elapsed)
                    else:
                        errors += 1
                i += CLIENTS

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies), latencies, errors


def run_ask_throughput(workers: list[int], seconds: float) -> list[Row]:
    questions = [c.question for name in ("seed", "seed_holdout") for c in load_dataset(DATASETS_DIR / f"{name}.jsonl")]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp_name, chroma_server(Path(tmp_name) / "server" / "data") as chroma_url:
        tmp = Path(tmp_name)
        env = {"QA_CHROMA__URL": chroma_url, "QA_DATA_DIR": str(tmp / "data"), "QA_LLM__BACKEND": "none"}
        subprocess.run(
            [str(VENV_BIN / "qa-service"), "ingest", str(SEED)], env={**os.environ, **env}, check=True,
            capture_output=True,
        )  # fmt: skip
        for n in workers:
            port = free_port()
            command = [str(VENV_BIN / "qa-service"), "serve", "--host", "127.0.0.1", "--port", str(port)]
            url = f"http://127.0.0.1:{port}"
            log = tmp / f"serve-{n}.log"
            with running([*command, "--workers", str(n)], ready_url=f"{url}/readyz", log=log, env=env):
                _load(url, questions, min(10.0, seconds))  # warm-up: every worker loads its models and caches
                done, latencies, errors = _load(url, questions, seconds)
            rows.append({"workers": n, "requests": done, "errors": errors, "rps": done / seconds,
                         "p50_ms": statistics.median(latencies), "p95_ms": percentile(latencies, 95)})  # fmt: skip
            print(f"# {rows[-1]}", flush=True)
    return rows
