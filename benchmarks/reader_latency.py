"""``/ask`` over HTTP at 10k chunks with the reader on and off, in one run (issue 36).

The corpus and the servers are those of ``benchmarks.scale_ask`` (embedded Chroma, one client, extractive,
every distinct eval question once, one math thread as there); the same store is served twice, first with
``QA_ANSWERING__READER=false`` (the pipeline without the reader, the baseline), then with the reader on.
``--alone``: the reader by itself instead, fp32 and int8, over 4 and 8 candidates of 60 rows of the
committed validation sample (the cheap scorer's best), in this process.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from pathlib import Path

from benchmarks.scale_ask import ask_over_http, base_corpus, distinct_questions, fill_and_floor
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.settings import Settings, packaged_embedding_model_path


def time_reader_alone() -> None:
    import statistics

    from evals.training.reader_fit import reader_input
    from evals.training.reader_train import SAMPLE_FILE
    from evals.training.tables import read_rows
    from qa_service.answering.reader import READER_DIR, Reader

    rows = read_rows(SAMPLE_FILE)[:60]
    for int8 in (False, True):
        reader = Reader(READER_DIR, int8=int8)
        for n in (4, 8):
            times = []
            for row in rows:
                candidates = sorted(row.candidates, key=lambda c: -c.cheap)[:n]
                inputs = [reader_input(row.question, c) for c in candidates]
                started = time.perf_counter()
                reader.relevance(inputs, [c.cheap for c in candidates])
                times.append((time.perf_counter() - started) * 1000)
            times = times[5:]  # the first calls warm up
            p95 = sorted(times)[int(len(times) * 0.95)]
            print(f"{'int8' if int8 else 'fp32'}, {n} candidates: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=10_000, help="chunks in the store")
    parser.add_argument("--base", type=int, default=1_000, help="real python-docs chunks behind the corpus")
    parser.add_argument("--alone", action="store_true", help="time the reader alone (no corpus, no server)")
    args = parser.parse_args()
    if args.alone:
        time_reader_alone()
        return
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        settings = Settings(data_dir=tmp / "store", llm={"backend": "none"})
        embedder = SentenceTransformerEmbedder(packaged_embedding_model_path())
        base = base_corpus(embedder, settings, args.base)
        del embedder
        per_copy = sum(len(b.chunks) for b in base)
        questions = distinct_questions()
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            floor = pool.apply(fill_and_floor, (settings, base, 0, max(1, round(args.size / per_copy)), questions))
        print(f"# floor {floor}", flush=True)
        for reader in ("false", "true"):
            env = {
                "QA_DATA_DIR": str(settings.data_dir),
                "QA_LLM__BACKEND": "none",
                "QA_LIMITS__REQUESTS_PER_MINUTE": "0",
                "QA_LOG_FORMAT": "text",
                "OMP_NUM_THREADS": "1",
                "QA_ANSWERING__READER": reader,
            }
            started = time.perf_counter()
            row = ask_over_http(env, tmp / f"serve-reader-{reader}.log", questions)
            print(f"reader={reader}: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}"
                                                   for k, v in row.items()), flush=True)  # fmt: skip
            print(f"# took {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
