"""Scoped questions: two documents both answer the question; pinned to one (by id, source glob or tag),
only that one is cited, over /ask, its stream and /v1 with the official openai client. Real store,
real embedding model, real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from qa_service.api.app import create_app
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.services import build_services
from tests.conftest import make_settings
from tests.servers import serving_in_thread

QUESTION = "What time does the nightly backup run?"
ALPHA = (
    "---\ntitle: Alpha operations manual\ntags: [ops, alpha]\n---\n"
    "# Backups\n\nThe nightly backup of the billing database runs at 02:00 UTC on the alpha cluster.\n\n"
    "Restores are tested every month by the alpha on-call engineer.\n"
)
BETA = (
    "Beta operations manual\n\n"
    "The nightly backup of the billing database runs at 04:30 UTC on the beta cluster.\n\n"
    "Restores are tested every quarter by the beta platform team.\n"
)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Iterator[str]:
    settings = make_settings(tmp_path_factory.mktemp("scoped"), llm={"backend": "none"})
    with serving_in_thread(create_app(settings, services=build_services(settings, embedder=embedder))) as url:
        with httpx.Client(base_url=url, timeout=60) as http:
            upload = http.post(
                "/documents",
                files=[("files", ("alpha-manual.md", ALPHA.encode()))],
                data={"metadata": json.dumps({"team": "alpha"})},
            )
            assert upload.status_code == 202, upload.text
            upload = http.post(
                "/documents",
                files=[("files", ("beta-manual.txt", BETA.encode()))],
                data={"metadata": '{"tags": ["beta"]}'},
            )
            assert upload.status_code == 202, upload.text
            _wait_ready(http, 2)
        yield url


def _wait_ready(http: httpx.Client, count: int) -> None:
    import time

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        items = http.get("/documents").json()["items"]
        if len(items) == count and all(d["state"] == "ready" for d in items):
            return
        time.sleep(0.1)
    raise AssertionError(http.get("/documents").text)


def _documents(base_url: str) -> dict[str, dict[str, Any]]:
    return {d["source"]: d for d in httpx.get(f"{base_url}/documents").json()["items"]}


def _cited(response: dict[str, Any]) -> set[str]:
    return {c["source"] for c in response["citations"]}


def test_unscoped_question_cites_the_alpha_manual(base_url: str) -> None:
    """Both manuals answer the question (each scoped test below gets an answer); unscoped, alpha wins, so
    the beta answers below come from the scope and nothing else."""
    response = httpx.post(f"{base_url}/ask", json={"question": QUESTION, "top_k": 6}, timeout=60).json()
    assert not response["refused"] and "alpha-manual.md" in _cited(response), response


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"sources": ["beta-*"]}, "beta-manual.txt"),
        ({"filter": {"tags": ["ops"]}}, "alpha-manual.md"),  # from the Markdown front matter
        ({"filter": {"tags": ["beta"]}}, "beta-manual.txt"),  # from the upload's metadata field
        ({"filter": {"tags": ["beta"], "updated_after": "2020-01-01T00:00:00Z"}}, "beta-manual.txt"),
    ],
)
def test_scoped_question_cites_only_the_chosen_document(base_url: str, scope: dict[str, Any], expected: str) -> None:
    response = httpx.post(f"{base_url}/ask", json={"question": QUESTION, "top_k": 6, **scope}, timeout=60).json()
    assert not response["refused"] and _cited(response) == {expected}, response


def test_pinned_by_document_id_over_ask_stream_and_v1(base_url: str) -> None:
    beta = _documents(base_url)["beta-manual.txt"]["id"]
    body = {"question": QUESTION, "top_k": 6, "document_ids": [beta]}
    assert _cited(httpx.post(f"{base_url}/ask", json=body, timeout=60).json()) == {"beta-manual.txt"}

    with httpx.stream("POST", f"{base_url}/ask", json={**body, "stream": True}, timeout=60) as stream:
        finals = [line for line in stream.iter_lines() if line.startswith("data: {") and '"citations"' in line]
    assert _cited(json.loads(finals[-1].removeprefix("data: "))) == {"beta-manual.txt"}

    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0, timeout=60)
    completion = client.chat.completions.create(
        model="default", messages=[{"role": "user", "content": QUESTION}], extra_body={"document_ids": [beta]}
    )
    citations = (completion.model_extra or {})["citations"]
    assert citations and {c["source"] for c in citations} == {"beta-manual.txt"}


def test_documents_carry_their_metadata(base_url: str) -> None:
    documents = _documents(base_url)
    assert documents["alpha-manual.md"]["metadata"] == {"title": "Alpha operations manual", "tags": ["ops", "alpha"],
                                                        "team": "alpha"}  # fmt: skip
    assert documents["alpha-manual.md"]["title"] == "Alpha operations manual"
    assert documents["beta-manual.txt"]["metadata"] == {"tags": ["beta"]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"document_ids": ["no-such-document"]}, "document_ids"),
        ({"filter": {"tag": ["ops"]}}, "filter.tag"),
        ({"filter": {"tags": "ops"}}, "filter.tags"),
        ({"filter": {"updated_after": "last tuesday"}}, "filter.updated_after"),
        ({"sources": []}, "sources"),
    ],
)
def test_a_bad_filter_is_a_422_naming_the_field(base_url: str, body: dict[str, Any], field: str) -> None:
    response = httpx.post(f"{base_url}/ask", json={"question": QUESTION, **body}, timeout=60)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["message"]


def test_a_filter_matching_nothing_says_so(base_url: str) -> None:
    response = httpx.post(f"{base_url}/ask", json={"question": QUESTION, "filter": {"tags": ["nobody"]}}, timeout=60)
    assert response.status_code == 422 and response.json()["error"]["code"] == "no_matching_documents"


@pytest.mark.parametrize("metadata", ["[1, 2]", "{not json", '{"tags": [1]}', '{"a b": 1}', '{"k": {"x": 1}}'])
def test_bad_upload_metadata_is_a_422_naming_the_field(base_url: str, metadata: str) -> None:
    response = httpx.post(
        f"{base_url}/documents", files=[("files", ("x.txt", b"Some text here."))], data={"metadata": metadata}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"].startswith("metadata")


def test_front_matter_is_parsed(tmp_path: Path) -> None:
    from qa_service.ingest.frontmatter import split_front_matter

    meta, body = split_front_matter("---\ntitle: 'Guide'\nkeywords:\n  - a\n  - b\n---\n# Guide\ntext\n")
    assert meta == {"title": "Guide", "tags": ["a", "b"]} and body == "# Guide\ntext\n"
    assert split_front_matter("no front matter\n---\n") == ({}, "no front matter\n---\n")


def test_pinned_through_the_http_retriever(base_url: str) -> None:
    from qa_service.integrations.langchain import QAServiceHTTPRetriever

    beta = _documents(base_url)["beta-manual.txt"]["id"]
    unpinned = QAServiceHTTPRetriever(url=base_url, k=4).invoke(QUESTION)
    assert {d.metadata["source"] for d in unpinned} == {"alpha-manual.md", "beta-manual.txt"}
    pinned = QAServiceHTTPRetriever(url=base_url, k=4, document_ids=[beta]).invoke(QUESTION)
    assert pinned and {d.metadata["source"] for d in pinned} == {"beta-manual.txt"}
    by_tag = QAServiceHTTPRetriever(url=base_url, k=4).invoke(QUESTION, filter={"tags": ["ops"]})
    assert by_tag and {d.metadata["source"] for d in by_tag} == {"alpha-manual.md"}
