"""Markdown for the scale benchmarks: tables plus a text chart of cost vs corpus size."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime

Row = dict[str, float | str]
BAR_WIDTH = 50


def _f(row: Row, key: str) -> float:
    return float(row[key])


def print_report(retrieval: list[Row], ingestion: list[Row], throughput: list[Row], *, distinct: int) -> None:
    print(
        f"### Scale-out — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}\n"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Command: `make bench-scale`. Load average (1/5/15 min) at the end: {load}; other jobs share these CPUs.\n")
    if retrieval:
        _print_retrieval(retrieval, distinct)
    if ingestion:
        _print_ingestion(ingestion)
    if throughput:
        _print_throughput(throughput)


def _print_retrieval(retrieval: list[Row], distinct: int) -> None:
    print(f"Corpus: {distinct} real python-docs chunks (real embeddings) repeated with noisy vectors up to each")
    print("size; queries are the python-docs + seed eval questions, embedded on every call.\n")
    print("| store | chunks | write chunks/s | query embed p50 | Chroma query p50 | dense stage p50 / p95 "
          "| numpy top-50 p50 / p95 | dense ÷ numpy | **end to end p50 / p95** | end-to-end q/s "
          "| BM25 index build s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in retrieval:
        print(
            f"| {r['backend']} | {int(_f(r, 'chunks')):,} | {_f(r, 'write_chunks_per_s'):,.0f} "
            f"| {_f(r, 'embed_p50'):.1f} | {_f(r, 'chroma_p50'):.2f} "
            f"| {_f(r, 'dense_p50'):.2f} / {_f(r, 'dense_p95'):.2f} "
            f"| {_f(r, 'numpy_p50'):.2f} / {_f(r, 'numpy_p95'):.2f} "
            f"| {_f(r, 'dense_p50') / _f(r, 'numpy_p50'):.1f}× | **{_f(r, 'e2e_p50'):.1f} / {_f(r, 'e2e_p95'):.1f}** "
            f"| {_f(r, 'e2e_qps'):.1f} | {_f(r, 'index_build_s'):.1f} |"
        )
    print("\nTimes in ms. End to end = `HybridRetriever.retrieve`: query embedding + Chroma dense top-50 + BM25")
    print("top-50 + fusion. Chroma query = `ChromaStore.query_dense_ids` (HNSW top-50 ids and distances). Dense")
    print("stage = `HybridRetriever.retrieve_dense` with the query vector cached (version check + Chroma query + ids")
    print("resolved to cached chunks): what retrieval spends on dense search. numpy = exact top-50 by one matrix")
    print("product over the same vectors in memory, the physical-limit reference.\n")
    print("How cost grows with corpus size (p50 ms; bars scaled to the largest value):\n")
    print("```")
    series = [("end to end", "e2e_p50"), ("dense", "dense_p50"), ("numpy", "numpy_p50")]
    top = max(_f(r, key) for r in retrieval for _, key in series)
    for r in retrieval:
        for label, key in series:
            bar = "#" * max(1, round(BAR_WIDTH * _f(r, key) / top))
            print(f"{r['backend']:>8} {int(_f(r, 'chunks')):>7,} {label:>10} | {bar} {_f(r, key):.2f}")
    print("```\n")


def _print_ingestion(ingestion: list[Row]) -> None:
    print("| ingestion (seed copies, real pipeline) | chunks | texts embedded (chunks + sentences) "
          "| ingest chunks/s | raw encode of the same texts, chunks/s | ratio (best ÷ best) "
          "| ingest runs s | raw runs s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for r in ingestion:
        print(f"| {r['backend']} Chroma | {int(_f(r, 'chunks'))} | {int(_f(r, 'texts'))} "
              f"| {_f(r, 'ingest_chunks_per_s'):.1f} "
              f"| {_f(r, 'raw_chunks_per_s'):.1f} | {_f(r, 'ratio'):.2f} "
              f"| {r.get('ingest_runs_s', '')} | {r.get('raw_runs_s', '')} |")  # fmt: skip
    print()


def _print_throughput(throughput: list[Row]) -> None:
    print("| `/ask` extractive, `qa-service serve --workers N`, Chroma server, 8 HTTP clients | requests | errors "
          "| req/s | p50 ms | p95 ms |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for r in throughput:
        print(f"| {int(_f(r, 'workers'))} worker(s) | {int(_f(r, 'requests'))} | {int(_f(r, 'errors'))} "
              f"| {_f(r, 'rps'):.1f} | {_f(r, 'p50_ms'):.1f} | {_f(r, 'p95_ms'):.1f} |")  # fmt: skip
    print()
