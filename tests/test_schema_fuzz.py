"""Schemathesis over the whole OpenAPI schema against a real server on loopback: every operation, generated
valid and invalid inputs, zero 5xx, every response matching its documented status, content type and schema."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
import uvicorn
from schemathesis import checks

from qa_service.api.app import create_app
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.services import build_services
from tests.conftest import SEED_FILE, WRITER_KEY, auth_settings
from tests.servers import free_port

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.ignored_auth,
]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Iterator[str]:
    settings = auth_settings(tmp_path_factory.mktemp("fuzz"), limits={"requests_per_minute": 0})
    services = build_services(settings, embedder=embedder)
    services.ingestor.ingest_paths([SEED_FILE], collection="default")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, services=services), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


# The schema the server publishes; building the app is cheap (models and stores open at start-up only).
OPENAPI = create_app(auth_settings(Path("unused"))).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)


@schema.parametrize()
@hypothesis.settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)
def test_every_operation_holds_to_its_schema(case: Any, base_url: str) -> None:
    case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {WRITER_KEY}"}, checks=CHECKS)


def test_the_fuzz_covers_every_route(base_url: str) -> None:
    published = httpx.get(base_url + "/openapi.json").json()
    assert published == OPENAPI
    routes = {
        "/ask",
        "/retrieve",
        "/documents",
        "/documents/{document_id}",
        "/documents/{document_id}/reindex",
        "/collections",
    }
    assert routes <= set(OPENAPI["paths"])
