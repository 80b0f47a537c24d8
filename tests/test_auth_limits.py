"""Access control (401 vs 403, roles, collections, hashed keys, bind refusal) and every limit (413/422/429/503)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from qa_service.api.app import create_app
from qa_service.cli import app as cli_app
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.errors import ConfigurationError
from qa_service.security import KeyRing, check_bind_address
from qa_service.services import build_services
from qa_service.settings import AuthSettings
from tests.conftest import READER_KEY, SEED_FILE, TEAM_KEY, WRITER_KEY, auth_settings, bearer, wait_for_states

W, R, T = bearer(WRITER_KEY), bearer(READER_KEY), bearer(TEAM_KEY)
QUESTION = {"question": "How many Druze civilians were killed in Sweida?"}


@pytest.fixture()
def seeded_secured(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Iterator[TestClient]:
    settings = auth_settings(
        tmp_path,
        limits={
            "requests_per_minute": 0,
            "max_upload_bytes": 200_000,
            "max_upload_files": 3,
            "max_request_bytes": 4096,
        },
    )
    services = build_services(settings, embedder=embedder)
    services.ingestor.ingest_paths([SEED_FILE], collection="team-a")
    services.ingestor.ingest_paths([SEED_FILE], collection="team-b")
    with TestClient(create_app(settings, services=services)) as client:
        yield client


def test_401_without_a_known_key_and_403_without_the_right_role_or_collection(seeded_secured: TestClient) -> None:
    client = seeded_secured
    for headers in ({}, bearer("qa_wrong"), {"X-API-Key": "qa_wrong"}):
        response = client.post("/ask", json={**QUESTION, "collection": "team-a"}, headers=headers)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert client.post("/ask", json={**QUESTION, "collection": "team-a"}, headers={"X-API-Key": READER_KEY}).is_success
    upload = client.post("/documents", files=[("files", ("a.txt", b"hello there"))], headers=R)
    assert upload.status_code == 403 and upload.json()["error"]["code"] == "writer_required"
    assert client.delete("/documents/whatever", params={"collection": "team-a"}, headers=R).status_code == 403
    # team-a's key reads team-a only, and does not even see that team-b exists
    assert client.post("/ask", json={**QUESTION, "collection": "team-a"}, headers=T).is_success
    denied = client.post("/ask", json={**QUESTION, "collection": "team-b"}, headers=T)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "collection_forbidden"
    assert [c["name"] for c in client.get("/collections", headers=T).json()["items"]] == ["team-a"]
    assert [c["name"] for c in client.get("/collections", headers=R).json()["items"]] == ["team-a", "team-b"]
    assert client.get("/metrics").status_code == 401 and client.get("/healthz").status_code == 200


def test_keys_are_stored_hashed_and_bad_entries_stop_start_up() -> None:
    result = CliRunner().invoke(cli_app, ["keys", "create", "--name", "ci", "--role", "writer", "--collection", "x"])
    assert result.exit_code == 0, result.output
    key = result.output.split("stored): ")[1].split()[0]
    entry = result.output.split("file): ")[1].split()[0]
    assert key not in entry and hashlib.sha256(key.encode()).hexdigest() in entry
    principal = KeyRing([entry]).authenticate(key)
    assert principal.name == "ci" and principal.role == "writer" and principal.collections == frozenset({"x"})
    with pytest.raises(ConfigurationError, match="invalid API key entry"):
        KeyRing(["ci:admin:" + "0" * 64])
    with pytest.raises(ConfigurationError, match="invalid API key entry"):
        KeyRing(["ci:reader:plaintext-key"])


def test_binding_beyond_loopback_needs_keys_or_an_explicit_setting(tmp_path: Path) -> None:
    open_ring = KeyRing([])
    check_bind_address("127.0.0.1", open_ring, AuthSettings())
    check_bind_address("::1", open_ring, AuthSettings())
    with pytest.raises(ConfigurationError, match=r"refusing to listen on 0\.0\.0\.0 without API keys"):
        check_bind_address("0.0.0.0", open_ring, AuthSettings())
    check_bind_address("0.0.0.0", open_ring, AuthSettings(allow_open_bind=True))
    check_bind_address("0.0.0.0", KeyRing.from_settings(auth_settings(tmp_path).auth), AuthSettings())
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0"], env={"QA_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2 and "refusing to listen" in result.output


def test_limits_each_get_a_clear_status(seeded_secured: TestClient) -> None:
    client = seeded_secured
    ask = {**QUESTION, "collection": "team-a"}
    too_long = client.post("/ask", json={**ask, "question": "why " * 600}, headers=R)
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "question_too_long"
    big_body = client.post("/ask", json={**ask, "history": [{"role": "user", "content": "x" * 5000}]}, headers=R)
    assert big_body.status_code == 413 and big_body.json()["error"]["code"] == "payload_too_large"
    for top_k in (0, 51):
        assert client.post("/ask", json={**ask, "top_k": top_k}, headers=R).json()["error"]["code"] == "invalid_top_k"
    big_file = client.post("/documents", files=[("files", ("big.txt", b"word " * 50_000))], headers=W)
    assert big_file.status_code == 413 and big_file.json()["error"]["code"] == "file_too_large"
    many = [("files", (f"n{i}.txt", b"some text here")) for i in range(4)]
    too_many = client.post("/documents", files=many, headers=W)
    assert too_many.status_code == 413 and too_many.json()["error"]["code"] == "too_many_files"
    # nothing of a refused upload is kept
    assert client.get("/documents", headers=R).status_code == 404  # the default collection was never created


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    settings = auth_settings(tmp_path, limits={"requests_per_minute": 5})
    with TestClient(create_app(settings, services=build_services(settings, embedder=embedder))) as client:
        statuses = [client.get("/collections", headers=R).status_code for _ in range(7)]
        assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]
        limited = client.get("/collections", headers=R)
        assert limited.json()["error"]["code"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
        assert client.get("/collections", headers=W).status_code == 200  # the limit is per key
        assert 'qa_rejections_total{reason="rate_limited"} 3.0' in client.get("/metrics", headers=W).text


def test_full_generation_queue_answers_503_with_retry_after(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = auth_settings(
        tmp_path, llm={"backend": "test", "test_reply": "More than 215 [1]."}, limits={"generation_queue": 1}
    )
    services = build_services(settings, embedder=embedder)
    services.ingestor.ingest_paths([SEED_FILE], collection="default")
    with TestClient(create_app(settings, services=services)) as client:
        assert client.post("/ask", json={**QUESTION, "mode": "generative"}, headers=R).status_code == 200
        with services.generation_gate.slot():  # one generation in progress fills a queue of one
            busy = client.post("/ask", json={**QUESTION, "mode": "generative"}, headers=R)
            assert busy.status_code == 503 and busy.headers["retry-after"] == "2"
            assert busy.json()["error"]["code"] == "generation_queue_full"
            streamed = client.post("/ask", json={**QUESTION, "mode": "auto", "stream": True}, headers=R)
            assert streamed.status_code == 503
            assert client.post("/ask", json=QUESTION, headers=R).status_code == 200  # extractive needs no slot
        assert client.post("/ask", json={**QUESTION, "mode": "generative"}, headers=R).status_code == 200


def test_upload_then_ready_with_keys(seeded_secured: TestClient) -> None:
    response = seeded_secured.post(
        "/documents",
        files=[("files", ("n.txt", b"The zorblax count was 12."))],
        params={"collection": "team-a"},
        headers=W,
    )
    assert response.status_code == 202
    record = wait_for_states(seeded_secured, [response.json()["items"][0]["status_url"]], T)[0]
    assert record["state"] == "ready"
