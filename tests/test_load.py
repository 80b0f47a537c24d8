"""16 clients ask for 60 s while documents are uploaded to and deleted from one of two collections, against a
real server process: zero 5xx, zero answers citing the other collection, with or without a scope (a document of the
other collection cannot be pinned). Latencies go to BENCHMARKS.md
(printed here; speed is not asserted)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from benchmarks.load import prepare, run_load
from tests.servers import ServerProcess


def test_sixteen_clients_for_sixty_seconds_with_uploads_and_deletes(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log", env={"QA_LIMITS__REQUESTS_PER_MINUTE": "0"})
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            owned = prepare(client)
        report = asyncio.run(run_load(server.url, owned, clients=16, seconds=60))
    finally:
        server.stop()
    summary = report.summary()
    print("load test:", json.dumps(summary))
    assert report.server_errors == 0, summary
    assert report.wrong_collection == 0, summary  # scoped asks (source globs) included
    assert report.scoped_asks > 0 and report.cross_pins > 0 and report.cross_pin_leaks == 0, summary
    assert set(report.statuses) == {200}, summary  # no 4xx either: every question was well-formed
    assert report.uploads >= 10 and report.deletes == report.uploads, summary
    assert report.asks >= 16 * 10, summary  # every client got many answers, not one slow one
