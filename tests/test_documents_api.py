"""The documents API over a real embedded Chroma and the real embedding model: upload in the background,
states, paging, idempotency, replace, delete (vectors and BM25), re-index, collections."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from qa_service.ingest.pipeline import EMBED_GROUP
from qa_service.services import Services
from qa_service.store.integrity import integrity_problems
from tests.conftest import READER_KEY, SEED_FILE, WRITER_KEY, bearer, wait_for_states

W, R = bearer(WRITER_KEY), bearer(READER_KEY)
SWEIDA = "How many Druze civilians were killed in Sweida?"
ZORB = "The zorblax festival in Quentaro is held every April and draws 40,000 visitors.\n"


def _upload(client: TestClient, *files: tuple[str, bytes], collection: str | None = None) -> list[dict[str, Any]]:
    params = {"collection": collection} if collection else {}
    response = client.post("/documents", files=[("files", f) for f in files], params=params, headers=W)
    assert response.status_code == 202, response.text
    return list(response.json()["items"])


def _services(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def test_upload_is_accepted_at_once_then_ingested_in_the_background(secured: TestClient) -> None:
    accepted = _upload(secured, ("seed.txt", SEED_FILE.read_bytes()), ("zorb.md", ZORB.encode()))
    assert [a["state"] for a in accepted] == ["received", "received"] and all(a["queued"] for a in accepted)
    records = wait_for_states(secured, [str(a["status_url"]) for a in accepted], R)
    assert [r["state"] for r in records] == ["ready", "ready"]
    assert records[0]["chunk_count"] > 5 and records[0]["title"].startswith("ANALYSIS")
    answer = secured.post("/ask", json={"question": SWEIDA}, headers=R).json()
    assert "215" in answer["answer"] and answer["citations"][0]["document_id"] == accepted[0]["id"]
    text = secured.get(f"/documents/{accepted[0]['id']}/text", headers=R).text
    citation = answer["citations"][0]
    assert text[citation["start"] : citation["end"]] == citation["quote"]


def test_states_are_recorded_in_order(secured: TestClient) -> None:
    accepted = _upload(secured, ("zorb.txt", ZORB.encode()))
    services = _services(secured)
    seen: list[str] = []
    for _ in range(2000):
        state = services.store.document_info("default", str(accepted[0]["id"])).state
        if not seen or seen[-1] != state:
            seen.append(state)
        if state in ("ready", "failed"):
            break
    order = ["received", "parsed", "chunked", "embedded", "ready"]
    assert seen[-1] == "ready" and [order.index(s) for s in seen] == sorted(order.index(s) for s in seen)


def test_same_content_twice_is_one_document(secured: TestClient) -> None:
    first = _upload(secured, ("zorb.txt", ZORB.encode()))
    wait_for_states(secured, [str(first[0]["status_url"])], R)
    again = _upload(secured, ("zorb.txt", ZORB.encode()))
    assert again[0]["id"] == first[0]["id"] and again[0]["queued"] is False and again[0]["state"] == "ready"
    store = _services(secured).store
    assert len(store.list_documents("default")) == 1
    assert store.chunk_count("default") == store.document_info("default", str(first[0]["id"])).chunk_count
    assert integrity_problems(store, "default") == []


def test_new_version_of_a_source_replaces_the_old(secured: TestClient) -> None:
    old = _upload(secured, ("festival.txt", ZORB.encode()))
    wait_for_states(secured, [str(old[0]["status_url"])], R)
    new = _upload(secured, ("festival.txt", ZORB.replace("40,000", "55,000").encode()))
    wait_for_states(secured, [str(new[0]["status_url"])], R)
    listing = secured.get("/documents", headers=R).json()
    assert [d["id"] for d in listing["items"]] == [new[0]["id"]]
    answer = secured.post("/ask", json={"question": "How many visitors does the zorblax festival draw?"}, headers=R)
    assert "55,000" in answer.json()["answer"]


def test_delete_removes_vectors_and_lexical_entries(secured: TestClient) -> None:
    accepted = _upload(secured, ("zorb.txt", ZORB.encode()), ("seed.txt", SEED_FILE.read_bytes()))
    wait_for_states(secured, [str(a["status_url"]) for a in accepted], R)
    question = {"question": "When is the zorblax festival in Quentaro held?"}
    assert "April" in secured.post("/ask", json=question, headers=R).json()["answer"]
    assert secured.delete(f"/documents/{accepted[0]['id']}", headers=W).status_code == 204
    services = _services(secured)
    assert services.store.find_document("default", str(accepted[0]["id"])) is None
    remaining = services.store.all_chunks("default")
    assert remaining and all(c.document_id == accepted[1]["id"] for c in remaining)
    lexical = services.retriever.lexical_index("default").chunks
    assert all(c.document_id != accepted[0]["id"] for c in lexical)
    after = secured.post("/ask", json=question, headers=R).json()
    assert after["refused"] and all(c["document_id"] != accepted[0]["id"] for c in after["citations"])
    assert secured.delete(f"/documents/{accepted[0]['id']}", headers=W).status_code == 404


def test_listing_is_paged_and_get_shows_one(secured: TestClient) -> None:
    files = [(f"note-{i}.txt", f"Note {i}: the zorblax count was {i * 7}.\n".encode()) for i in range(5)]
    accepted = _upload(secured, *files)
    wait_for_states(secured, [str(a["status_url"]) for a in accepted], R)
    page = secured.get("/documents", params={"offset": 1, "limit": 2}, headers=R).json()
    assert (
        page["total"] == 5
        and page["offset"] == 1
        and [d["source"] for d in page["items"]]
        == [
            "note-1.txt",
            "note-2.txt",
        ]
    )
    one = secured.get(f"/documents/{accepted[3]['id']}", headers=R).json()
    assert one["source"] == "note-3.txt" and one["state"] == "ready" and one["chunk_count"] == 1
    assert secured.get("/documents/0123456789abcdef", headers=R).json()["error"]["code"] == "document_not_found"


def test_reindex_keeps_the_document_whole(secured: TestClient) -> None:
    accepted = _upload(secured, ("seed.txt", SEED_FILE.read_bytes()))
    before = wait_for_states(secured, [str(accepted[0]["status_url"])], R)[0]
    response = secured.post(f"/documents/{accepted[0]['id']}/reindex", headers=W)
    assert response.status_code == 202 and response.json()["queued"] is True
    after = wait_for_states(secured, [str(accepted[0]["status_url"])], R)[0]
    assert after["state"] == "ready" and after["chunk_count"] == before["chunk_count"]
    assert float(after["updated_at"]) > float(before["updated_at"])
    assert integrity_problems(_services(secured).store, "default") == []


def test_collections_are_created_on_first_upload_and_kept_apart(secured: TestClient) -> None:
    zorb = _upload(secured, ("zorb.txt", ZORB.encode()), collection="team-a")
    seed = _upload(secured, ("seed.txt", SEED_FILE.read_bytes()), collection="team-b")
    wait_for_states(secured, [str(zorb[0]["status_url"]), str(seed[0]["status_url"])], R)
    collections = {c["name"]: c for c in secured.get("/collections", headers=R).json()["items"]}
    assert set(collections) == {"team-a", "team-b"} and collections["team-a"]["ready"] == 1
    answer = secured.post("/ask", json={"question": SWEIDA, "collection": "team-a"}, headers=R).json()
    assert answer["refused"] and all(c["document_id"] == zorb[0]["id"] for c in answer["citations"])
    answer = secured.post("/ask", json={"question": SWEIDA, "collection": "team-b"}, headers=R).json()
    assert "215" in answer["answer"]
    bad = secured.post("/documents", files=[("files", ("a.txt", b"hello"))], params={"collection": "../x"}, headers=W)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_collection"


def test_a_file_that_fails_to_parse_is_failed_with_its_reason_and_leaves_nothing(secured: TestClient) -> None:
    # Passes the quick checks (it starts like a PDF) but is not one: the background parse fails.
    accepted = _upload(secured, ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n"), ("zorb.txt", ZORB.encode()))
    records = wait_for_states(secured, [str(a["status_url"]) for a in accepted], R)
    assert records[0]["state"] == "failed" and "not a readable PDF" in str(records[0]["error"])
    assert records[1]["state"] == "ready"
    store = _services(secured).store
    assert integrity_problems(store, "default") == []
    assert all(c.document_id != accepted[0]["id"] for c in store.all_chunks("default"))


def test_a_large_upload_reports_embedding_progress(secured: TestClient) -> None:
    # About 180 chunks and 1,500 sentences: several embedding groups (EMBED_GROUP texts each) to see progress over.
    paragraphs = [
        f"Paragraph {i}. The zorblax index of ward {i} rose to {i * 3} points in the spring. " * 6 for i in range(250)
    ]
    accepted = _upload(secured, ("large.txt", "\n\n".join(paragraphs).encode()))
    store = _services(secured).store
    partial = []
    for _ in range(100_000):  # polled through the store: HTTP polling this fast would meet the rate limit
        info = store.document_info("default", str(accepted[0]["id"]))
        if info.state == "chunked" and 0 < info.embedded_chunks < info.chunk_count:
            partial.append(info.embedded_chunks)
        if info.state in ("ready", "failed"):
            break
        time.sleep(0.01)
    record = secured.get(str(accepted[0]["status_url"]), headers=R).json()
    assert record["state"] == "ready" and record["chunk_count"] > EMBED_GROUP // 2
    assert record["embedded_chunks"] == record["chunk_count"]
    assert len(set(partial)) > 1 and partial == sorted(partial)  # seen part-way more than once, only growing
