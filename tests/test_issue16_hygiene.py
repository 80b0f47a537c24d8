"""Odd but real input (issue 16): text that is not Unicode, loose types, huge numbers, Unicode file names,
identical files in one upload, Markdown links; and what a restricted key or no key may see."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa_service.api.app import create_app
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.ingest.loaders import load_bytes
from qa_service.ingest.pipeline import document_id_for
from qa_service.ingest.uploads import spool_upload
from qa_service.services import build_services
from tests.conftest import READER_KEY, TEAM_KEY, WRITER_KEY, auth_settings, bearer, wait_for_states

W, R, T = bearer(WRITER_KEY), bearer(READER_KEY), bearer(TEAM_KEY)
SURROGATE = '{"question": "How many \\ud800 were killed?"%s}'


@pytest.mark.parametrize("extra", ["", ', "stream": true'])
def test_lone_surrogate_is_a_422_invalid_text_streamed_or_not(client: TestClient, extra: str) -> None:
    body = (SURROGATE % extra).encode()
    response = client.post("/ask", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_text"


def test_lone_surrogate_in_the_openai_surface_is_invalid_text(client: TestClient) -> None:
    body = b'{"model": "default", "messages": [{"role": "user", "content": "Who \\udfff?"}]}'
    response = client.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_text"


@pytest.mark.parametrize(
    "body",
    [
        '{"question": "Who?", "stream": "yes"}',
        '{"question": "Who?", "stream": 1}',
        '{"question": "Who?", "top_k": "5"}',
        '{"question": "Who?", "top_k": 5.0}',
        '{"question": "Who?", "top_k": ' + "9" * 5000 + "}",
        '{"question": "Who?", "top_k": ' + "9" * 40 + "}",
    ],
)
def test_loose_booleans_and_integers_and_huge_numbers_are_422(client: TestClient, body: str) -> None:
    response = client.post("/ask", content=body.encode(), headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text


def test_nfc_and_nfd_names_are_one_source(secured: TestClient) -> None:
    nfc, nfd = "caf\u00e9.txt", "cafe\u0301.txt"
    for name, text in ((nfc, b"The cafe opened in 1931."), (nfd, b"The cafe opened in 1932.")):
        response = secured.post("/documents", files=[("files", (name, text))], headers=W)
        assert response.status_code == 202 and response.json()["items"][0]["source"] == nfc
        wait_for_states(secured, [response.json()["items"][0]["status_url"]], R)
    items = secured.get("/documents", headers=R).json()["items"]
    assert [d["source"] for d in items] == [nfc]  # the second upload replaced the first: one visible name


def test_identical_files_in_one_upload_are_one_document_with_all_names(secured: TestClient) -> None:
    files = [("files", (f"b{i}.txt", b"The same report: 42 pumps.")) for i in range(1, 21)]
    response = secured.post("/documents", files=files, headers=W)
    assert response.status_code == 202
    [document] = response.json()["items"]
    assert document["source"] == "b1.txt" and document["names"] == [f"b{i}.txt" for i in range(1, 21)]
    [record] = wait_for_states(secured, [document["status_url"]], R)
    assert record["state"] == "ready" and record["source"] == "b1.txt"


async def test_spooled_upload_is_hashed_like_the_document_id(tmp_path: Path) -> None:
    data = b"x" * 3_000_001  # more than a few read chunks

    class Upload:
        offset = 0

        async def read(self, size: int = -1) -> bytes:
            piece = data[self.offset : self.offset + size]
            self.offset += len(piece)
            return piece

    spooled = await spool_upload(Upload(), source="big.txt", directory=tmp_path, max_bytes=len(data))
    assert spooled.document_id == document_id_for(data) and spooled.path.read_bytes() == data


def test_markdown_links_keep_their_text(tmp_path: Path) -> None:
    path = tmp_path / "links.md"
    path.write_text("Read [the install guide](javascript:void(0)) before [the FAQ](https://x.org/a_(b)).\n")
    text = " ".join(block.text for page in load_bytes(path.read_bytes(), path.name).pages for block in page)
    assert "Read the install guide before the FAQ." in text


def test_metrics_show_a_restricted_key_only_its_collections(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = auth_settings(tmp_path)
    with TestClient(create_app(settings, services=build_services(settings, embedder=embedder))) as client:
        for collection in ("team-a", "team-b"):
            response = client.post(
                "/documents", files=[("files", ("n.txt", b"Notes."))], params={"collection": collection}, headers=W
            )
            wait_for_states(client, [response.json()["items"][0]["status_url"]], W)
        team = client.get("/metrics", headers=T).text
        assert 'collection="team-a"' in team and 'collection="team-b"' not in team
        everyone = client.get("/metrics", headers=R).text
        assert 'collection="team-a"' in everyone and 'collection="team-b"' in everyone
        ready = client.get("/readyz")  # no key
        assert ready.status_code == 200 and json.loads(ready.text) == {"status": "ready"}
