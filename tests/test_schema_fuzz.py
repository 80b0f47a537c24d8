"""Schemathesis over the whole OpenAPI schema against a real server on loopback: every operation, generated
valid and invalid inputs, zero 5xx, every response matching its documented status, content type and schema."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
import uvicorn
from hypothesis import strategies as st
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


# Bodies schemathesis does not generate (issue 16): lone UTF-16 surrogates (valid JSON escapes, not valid
# Unicode), integers far past any limit (5,000 digits is over Python's int parsing limit), loose types.
_surrogate = st.integers(0xD800, 0xDFFF).map(chr)
_texts = st.lists(st.one_of(st.characters(), _surrogate), min_size=1, max_size=20).map("".join)
_numbers = st.one_of(
    st.integers().map(str),
    st.integers(1, 6000).map(lambda n: "9" * n),
    st.sampled_from(['"5"', "5.0", "true", "null", "-0", "1e400"]),
)
_flags = st.sampled_from(["true", "false", '"yes"', "1", "null", '"true"'])


@hypothesis.given(question=_texts, top_k=_numbers, stream=_flags, openai=st.booleans())
@hypothesis.settings(max_examples=60, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_surrogates_and_huge_numbers_never_give_a_5xx(
    base_url: str, question: str, top_k: str, stream: str, openai: bool
) -> None:
    text = json.dumps(question)  # ensure_ascii: a lone surrogate becomes a "\ud800" escape
    if openai:
        path = "/v1/chat/completions"
        body = f'{{"model": "default", "messages": [{{"role": "user", "content": {text}}}], "top_k": {top_k}}}'
    else:
        path, body = "/ask", f'{{"question": {text}, "top_k": {top_k}, "stream": {stream}}}'
    headers = {"Authorization": f"Bearer {WRITER_KEY}", "content-type": "application/json"}
    response = httpx.post(base_url + path, content=body.encode(), headers=headers, timeout=60)
    assert response.status_code < 500, (body[:200], response.text[:300])
    if response.status_code >= 400:
        assert response.json()["error"]["code"]
    # As the server decodes it (two generated halves can make a valid pair): invalid_text, or another 422.
    if not _encodable(json.loads(text)):
        assert response.status_code == 422, (body[:300], response.text[:300])


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_dates = st.one_of(
    st.sampled_from(['"0001-01-01"', '"9999-12-31T23:59:59"', '"1969-12-31"', '"2020-02-30"', "1e11", "-1", "1e400"]),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


@hypothesis.given(query=_texts, k=_numbers, updated_after=_dates, retrieve=st.booleans())
@hypothesis.settings(max_examples=60, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_retrieve_and_dates_never_give_a_5xx(
    base_url: str, query: str, k: str, updated_after: str, retrieve: bool
) -> None:
    """/retrieve's text and k, and the date filter, with the bodies above and extreme dates."""
    text = json.dumps(query)
    path, fields = ("/retrieve", ('"query"', '"k"')) if retrieve else ("/ask", ('"question"', '"top_k"'))
    body = f'{{{fields[0]}: {text}, {fields[1]}: {k}, "filter": {{"updated_after": {updated_after}}}}}'
    headers = {"Authorization": f"Bearer {WRITER_KEY}", "content-type": "application/json"}
    response = httpx.post(base_url + path, content=body.encode(), headers=headers, timeout=60)
    assert response.status_code < 500, (body[:200], response.text[:300])
    if not _encodable(json.loads(text)):
        assert response.status_code == 422, (body[:300], response.text[:300])


@hypothesis.given(value=_texts, key=st.one_of(st.just("team"), _texts))
@hypothesis.settings(max_examples=40, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_upload_metadata_with_surrogates_is_a_422(base_url: str, value: str, key: str) -> None:
    """A lone surrogate anywhere in the upload's metadata is a 422 that creates nothing."""
    collection = f"fuzz-{uuid.uuid4().hex[:12]}"
    headers = {"Authorization": f"Bearer {WRITER_KEY}"}
    metadata = json.dumps({key: value})
    # As the server decodes it (two generated halves can make a valid pair).
    (decoded_key, decoded_value), *_ = json.loads(metadata).items()
    response = httpx.post(
        f"{base_url}/documents?collection={collection}",
        files=[("files", ("note.txt", b"The zorblax count was 12."))],
        data={"metadata": metadata},
        headers=headers,
        timeout=60,
    )
    assert response.status_code < 500, (key[:50], value[:50], response.text[:300])
    if not (_encodable(decoded_key) and _encodable(decoded_value)):
        assert response.status_code == 422, (key[:50], value[:50], response.text[:300])
        listed = httpx.get(f"{base_url}/collections", headers=headers, timeout=60).json()
        assert collection not in json.dumps(listed)
