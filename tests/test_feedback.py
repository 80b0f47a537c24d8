"""POST /feedback keeps a reader's verdict with the question, answer and citations; GET /feedback exports the
verdicts a writer may see; the file survives a restart and a record torn by a crash (qa_service/feedback.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa_service.api.app import create_app
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.feedback import FeedbackLog
from qa_service.security import key_entry
from qa_service.services import build_services
from tests.conftest import READER_KEY, WRITER_KEY, bearer, make_settings

TEAM_WRITER_KEY = "qa_teamwriter_0123456789abcdef0123456789abcdef"
W, R, TW = bearer(WRITER_KEY), bearer(READER_KEY), bearer(TEAM_WRITER_KEY)
VERDICT = {
    "question": "How many Druze civilians were killed in Sweida?",
    "answer": "More than 215 Druze civilians were killed. [1]",
    "rating": "up",
    "citations": [{"document_id": "abc", "start": 10, "end": 42, "quote": "more than 215 Druze civilians"}],
}


@pytest.fixture()
def client(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Iterator[TestClient]:
    keys = ",".join(
        [
            key_entry("writer", "writer", WRITER_KEY),
            key_entry("reader", "reader", READER_KEY),
            key_entry("team-a-writer", "writer", TEAM_WRITER_KEY, ["team-a"]),
        ]
    )
    settings = make_settings(tmp_path, auth={"keys": keys}, llm={"backend": "none"})
    with TestClient(create_app(settings, services=build_services(settings, embedder=embedder))) as test_client:
        yield test_client


def _export(client: TestClient, headers: dict[str, str]) -> list[dict[str, object]]:
    response = client.get("/feedback", headers=headers)
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def test_a_verdict_is_kept_with_what_it_judged_and_exported_to_writers(client: TestClient) -> None:
    created = client.post("/feedback", json={**VERDICT, "collection": "team-a", "comment": "right"}, headers=R)
    assert created.status_code == 201
    client.post("/feedback", json={**VERDICT, "rating": "down", "collection": "team-b"}, headers=R)
    everything = _export(client, W)
    assert [(r["collection"], r["rating"]) for r in everything] == [("team-a", "up"), ("team-b", "down")]
    first = everything[0]
    assert first["id"] == created.json()["id"] and first["sender"] == "reader" and first["comment"] == "right"
    assert first["question"] == VERDICT["question"] and first["answer"] == VERDICT["answer"]
    assert first["citations"] == VERDICT["citations"]
    assert [r["collection"] for r in _export(client, TW)] == ["team-a"]  # only the collections the key may use
    assert client.get("/feedback", headers=R).status_code == 403  # other people's questions: writers only
    assert client.get("/feedback").status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        {"rating": "meh"},
        {"question": ""},
        {"question": "\ud800"},
        {"answer": "x" * 20_001},
        {"citations": [{"document_id": "abc", "start": -1, "end": 3}]},
        {"citations": [{"document_id": "abc", "start": "1", "end": 3}]},
        {"unexpected": True},
        {"collection": ""},
    ],
)
def test_bad_feedback_is_a_422_and_nothing_is_written(client: TestClient, change: dict[str, object]) -> None:
    body = json.dumps({**VERDICT, **change})  # ASCII JSON: a lone surrogate travels as \\ud800
    response = client.post("/feedback", content=body, headers={**R, "content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert _export(client, W) == []


def test_a_torn_last_line_is_skipped_and_the_log_goes_on(tmp_path: Path) -> None:
    from qa_service.feedback import FeedbackRecord

    log = FeedbackLog(tmp_path / "feedback.jsonl")
    log.append(FeedbackRecord(question="q1", answer="a1", rating="up", collection="default"))
    with log.path.open("a", encoding="utf-8") as f:
        f.write('{"question": "q2", "ans')  # a crash in the middle of a write
    assert [r.question for r in log.records()] == ["q1"]
    log.append(FeedbackRecord(question="q3", answer="a3", rating="down", collection="default"))
    assert [r.question for r in log.records()] == ["q1", "q3"]
