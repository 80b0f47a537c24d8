"""SIGKILL the server while it ingests 50 uploaded documents, restart it: every document ends ready with all
its chunks (resumed from its spooled upload) or failed; no orphan chunks; questions keep working."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from qa_service.ingest.jobs import IngestionQueue
from qa_service.services import Services
from qa_service.store import ChromaStore
from qa_service.store.integrity import integrity_problems
from tests.conftest import SEED_FILE
from tests.servers import ServerProcess

DOCUMENTS = 50


def _documents() -> list[tuple[str, bytes]]:
    """50 distinct ~6 KB documents (about 11 chunks each), each with one fact of its own."""
    body = SEED_FILE.read_text(encoding="utf-8")
    return [
        (
            f"report-{i:02d}.txt",
            f"District {i} report. The zorblax count in district {i} was {1000 + i * 37}.\n\n{body}".encode(),
        )
        for i in range(DOCUMENTS)
    ]


def _states(client: httpx.Client) -> dict[str, str]:
    items = client.get("/documents", params={"limit": 1000}).json()["items"]
    return {d["source"]: d["state"] for d in items}


@pytest.fixture()
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"


def test_sigkill_mid_ingestion_then_restart(data_dir: Path, tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    server = ServerProcess(data_dir, log_path)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            docs = _documents()
            for i in range(0, DOCUMENTS, 10):
                response = client.post("/documents", files=[("files", d) for d in docs[i : i + 10]])
                assert response.status_code == 202, response.text
            deadline = time.monotonic() + 120
            while sum(s == "ready" for s in _states(client).values()) < 5:
                assert time.monotonic() < deadline, "ingestion did not start"
                time.sleep(0.05)
            server.kill()
    finally:
        server.stop()

    at_kill = ChromaStore.persistent(data_dir / "chroma")
    states_at_kill = [info.state for info in at_kill.list_documents("default")]
    del at_kill
    assert len(states_at_kill) == DOCUMENTS
    print("states at SIGKILL:", dict(Counter(states_at_kill)))
    assert 5 <= states_at_kill.count("ready") < DOCUMENTS, "the kill must land while documents are in progress"

    restarted = ServerProcess(data_dir, log_path)
    restarted.start()
    try:
        with httpx.Client(base_url=restarted.url, timeout=30) as client:
            deadline = time.monotonic() + 300
            while any(s not in ("ready", "failed") for s in _states(client).values()):
                # questions keep working while the rest is resumed
                answer = client.post("/ask", json={"question": "What was the zorblax count in district 3?"})
                assert answer.status_code == 200
                assert time.monotonic() < deadline, "resumed ingestion did not finish"
                time.sleep(0.5)
            assert set(_states(client).values()) == {"ready"}  # every upload was spooled, so all resume
            answer = client.post("/ask", json={"question": "What was the zorblax count in district 49?"}).json()
            assert "2813" in answer["answer"], answer
    finally:
        restarted.stop()

    store = ChromaStore.persistent(data_dir / "chroma")
    assert integrity_problems(store, "default") == []
    assert len(store.list_documents("default")) == DOCUMENTS
    spooled = [p for p in (data_dir / "uploads" / "default").iterdir() if not p.suffix]
    assert spooled == [], "spooled uploads are removed once ready"
    logs = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any("resuming ingestion" in entry["message"] for entry in logs)
    requests = [entry for entry in logs if entry.get("route") == "/documents" and entry.get("method") == "POST"]
    assert requests and all(len(entry["request_id"]) == 32 and entry["status"] == 202 for entry in requests)


def test_recovery_takes_over_only_work_whose_process_is_gone(tmp_path: Path, fresh_services: Services) -> None:
    """Several workers or replicas share one store: a starting process must not steal live work."""
    store, jobs = fresh_services.store, fresh_services.jobs
    node = jobs.owner.rpartition(":")[0]
    sleeper = subprocess.Popen(["sleep", "60"])
    dead = subprocess.Popen(["true"])
    dead.wait()
    owners = {
        "live": f"{node}:{sleeper.pid}",  # another uvicorn worker on this node, still ingesting
        "dead": f"{node}:{dead.pid}",  # killed mid-ingestion
        "remote": f"othernode:{sleeper.pid}",  # another replica: its own restart recovers it
    }
    try:
        for label, owner in owners.items():
            store.register_document("default", label, source=f"{label}.txt", size=10, dimension=384, owner=owner)
        taken = jobs.recover()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert [info.id for info in taken] == ["dead"]
    states = {info.id: (info.state, info.error) for info in store.list_documents("default")}
    assert states["dead"] == ("failed", "interrupted; upload it again")  # no spooled bytes, no text: failed
    assert states["live"][0] == "received" and states["remote"][0] == "received"
    # A replica that never came back: once its work has made no progress for stale_after, it is taken over.
    patient = IngestionQueue(
        store=store,
        ingestor=fresh_services.ingestor,
        spool_dir=fresh_services.settings.data_dir / "uploads",
        dimension=384,
        stale_after=0.001,
    )
    assert {info.id for info in patient.recover()} == {"live", "remote"}


def test_sentence_vectors_left_by_a_crash_are_found_and_removed(fresh_services: Services, tmp_path: Path) -> None:
    import numpy as np

    from qa_service.store.integrity import remove_orphan_records
    from qa_service.store.records import SentenceVectors, sentence_records

    store = fresh_services.store
    fresh_services.ingestor.ingest_paths([SEED_FILE], collection="default")
    kept = store.sentence_owners("default")
    assert kept and integrity_problems(store, "default") == []
    # What a crash between writing a document's sentence vectors and its record leaves behind.
    from qa_service.domain import Chunk

    ghost = Chunk(id="ghost:00000", document_id="ghost", index=0, start=0, end=30, text="", source="")
    spans = [(0, 9), (10, 19), (20, 29)]
    rows = sentence_records(SentenceVectors("k", np.ones((3, 384), dtype=np.float32), spans=spans), [ghost])
    sentences = store._sentences("default", create=True)  # the crash is simulated below the store's API
    assert sentences is not None
    sentences.add(
        ids=[r[0] for r in rows], metadatas=[r[1] for r in rows], embeddings=[r[2] for r in rows],
    )  # fmt: skip
    assert any("sentence-vector records of ghost" in p for p in integrity_problems(store, "default"))
    assert remove_orphan_records(store, "default") == len(rows)
    assert store.sentence_owners("default") == kept and integrity_problems(store, "default") == []
