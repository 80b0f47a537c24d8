"""Kill a real Chroma server (``chroma run``) while `qa-service serve` ingests uploads, then start it again:
clients see 503 + Retry-After (never a 500 or a "not found") while it is down, readiness recovers by itself,
and every document ends ready without restarting the API."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import SEED_FILE
from tests.servers import VENV_BIN, ServerProcess, free_port, running

DOCUMENTS = 6


def _documents(first: int, count: int) -> list[tuple[str, bytes]]:
    body = SEED_FILE.read_text(encoding="utf-8")
    return [
        (f"district-{i:02d}.txt", f"District {i}. The zorblax count in district {i} was {1000 + i}.\n\n{body}".encode())
        for i in range(first, first + count)
    ]


@contextmanager
def _chroma(path: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    command = [str(VENV_BIN / "chroma"), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)]
    url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    with running(command, ready_url=url, log=path.parent / f"chroma-{time.time():.0f}.log") as process:
        yield process


def _kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(15)


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"]["code"] == "store_unavailable"


@pytest.fixture()
def outage_paths(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "chroma").mkdir()
    return tmp_path / "chroma" / "data", tmp_path / "api"


def test_chroma_outage_gives_503s_and_ingestion_resumes_by_itself(outage_paths: tuple[Path, Path]) -> None:
    chroma_path, data_dir = outage_paths
    port = free_port()
    env = {"QA_CHROMA__URL": f"http://127.0.0.1:{port}", "QA_INGEST__STORE_BACKOFF_MAX_S": "1"}
    server = ServerProcess(data_dir, data_dir.parent / "api.log", env=env)
    api = httpx.Client(base_url=server.url, timeout=30)
    try:
        with _chroma(chroma_path, port) as chroma:
            server.start()
            first = api.post("/documents", files=[("files", d) for d in _documents(0, DOCUMENTS)])
            assert first.status_code == 202
            ids = [d["id"] for d in first.json()["items"]]
            _kill(chroma)  # mid-ingestion: the worker is embedding or writing the first documents

            _assert_unavailable(api.post("/ask", json={"question": "What was the zorblax count in district 3?"}))
            _assert_unavailable(api.post("/ask", json={"question": "What was the zorblax count?", "stream": True}))
            _assert_unavailable(api.get("/documents"))
            _assert_unavailable(api.get(f"/documents/{ids[0]}"))
            _assert_unavailable(api.get(f"/documents/{ids[0]}/text"))
            _assert_unavailable(api.post(f"/documents/{ids[-1]}/reindex"))
            _assert_unavailable(api.get("/collections"))
            _assert_unavailable(api.post("/documents", files=[("files", d) for d in _documents(DOCUMENTS, 2)]))
            ready = api.get("/readyz")
            assert ready.status_code == 503 and int(ready.headers["retry-after"]) >= 1
            metrics = api.get("/metrics")
            assert metrics.status_code == 200 and "qa_store_up 0.0" in metrics.text
            time.sleep(3)  # the ingestion worker meets the outage and backs off
        with _chroma(chroma_path, port):
            deadline = time.monotonic() + 60
            while api.get("/readyz").status_code != 200:  # back by itself, no API restart
                assert time.monotonic() < deadline, "readiness did not recover"
                time.sleep(0.5)
            later = api.post("/documents", files=[("files", d) for d in _documents(DOCUMENTS, 2)])
            assert later.status_code == 202
            ids += [d["id"] for d in later.json()["items"]]
            deadline = time.monotonic() + 240
            while True:
                records = [api.get(f"/documents/{i}").json() for i in ids]
                if all(r["state"] in ("ready", "failed") for r in records):
                    break
                assert time.monotonic() < deadline, f"still in progress: {[r['state'] for r in records]}"
                time.sleep(1)
            assert [r["state"] for r in records] == ["ready"] * len(ids), [r.get("error") for r in records]
            last = DOCUMENTS + 1  # uploaded after the outage
            answer = api.post("/ask", json={"question": f"What was the zorblax count in district {last}?"}).json()
            assert str(1000 + last) in answer["answer"], answer
    finally:
        server.stop()
