"""Request ids (echoed in X-Request-ID and in every JSON log line) and Prometheus metrics at /metrics."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from qa_service.logs import configure_logging
from tests.conftest import READER_KEY, SEED_FILE, WRITER_KEY, bearer, wait_for_states

W, R = bearer(WRITER_KEY), bearer(READER_KEY)


@pytest.fixture()
def json_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    yield stream
    root.handlers[:], _ = saved
    root.setLevel(saved[1])
    logging.getLogger("uvicorn.access").disabled = False


def test_request_ids_are_echoed_and_logged(secured: TestClient, json_logs: io.StringIO) -> None:
    given = secured.get("/collections", headers={**R, "X-Request-ID": "trace-abc.123"})
    assert given.headers["x-request-id"] == "trace-abc.123"
    made = secured.get("/collections", headers=R).headers["x-request-id"]
    hostile = secured.get("/collections", headers={**R, "X-Request-ID": 'a"b\\nc' + "x" * 100}).headers["x-request-id"]
    assert len(made) == 32 and len(hostile) == 32 and made != hostile  # unusable ids are replaced, not echoed
    assert secured.get("/nope").headers["x-request-id"]  # errors carry one too
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line.startswith("{")]
    requests = {entry["request_id"]: entry for entry in lines if entry.get("logger") == "qa_service.http"}
    assert requests["trace-abc.123"]["status"] == 200 and requests["trace-abc.123"]["route"] == "/collections"
    assert requests["trace-abc.123"]["key"] == "reader" and requests[made]["duration_ms"] >= 0
    assert {"time", "level", "message"} <= set(requests[made])


def test_metrics_cover_routes_stages_states_and_queues(secured: TestClient) -> None:
    response = secured.post("/documents", files=[("files", ("seed.txt", SEED_FILE.read_bytes()))], headers=W)
    wait_for_states(secured, [response.json()["items"][0]["status_url"]], R)
    secured.post("/documents", files=[("files", ("bad.pdf", b"%PDF-1.4 nope"))], headers=W)
    assert secured.post("/ask", json={"question": "How many Druze civilians were killed?"}, headers=R).is_success
    secured.post("/ask", json={"question": ""}, headers=R)
    wait_for_states(secured, ["/documents/" + _id_of(secured, "bad.pdf")], R)
    text = secured.get("/metrics", headers=R).text
    assert 'qa_requests_total{method="POST",route="/ask",status="200"} 1.0' in text
    assert 'qa_requests_total{method="POST",route="/ask",status="422"} 1.0' in text
    assert 'qa_request_seconds_count{method="POST",route="/documents"} 2.0' in text
    for stage in ("retrieve", "rank", "answer"):
        assert f'qa_ask_stage_seconds_count{{mode="extractive",stage="{stage}"}} 1.0' in text
    assert 'qa_documents{collection="default",state="ready"} 1.0' in text
    assert 'qa_documents{collection="default",state="failed"} 1.0' in text
    assert "qa_ingest_queue_depth 0.0" in text and "qa_generation_queue_depth 0.0" in text


def _id_of(client: TestClient, source: str) -> str:
    items = client.get("/documents", headers=R).json()["items"]
    return str(next(d["id"] for d in items if d["source"] == source))
