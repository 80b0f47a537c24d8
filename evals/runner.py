"""Run eval cases through ``POST /ask`` (in-process TestClient or a server URL) and score them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from evals.dataset import EvalCase
from evals.metrics import CaseResult, score_case, summarize


class HTTPClient(Protocol):
    def post(self, url: str, *, json: Any) -> Any: ...
    def get(self, url: str, *, params: Any = None) -> Any: ...


def fetch_document_texts(client: HTTPClient, collection: str | None = None) -> dict[str, str]:
    params = {"collection": collection} if collection else None
    listing = client.get("/documents", params=params)
    listing.raise_for_status()
    texts = {}
    for doc in listing.json():
        response = client.get(f"/documents/{doc['id']}/text", params=params)
        response.raise_for_status()
        texts[doc["id"]] = response.text
    return texts


def run_cases(
    client: HTTPClient,
    cases: list[EvalCase],
    *,
    mode: str,
    collection: str | None = None,
    on_case: Callable[[CaseResult], None] | None = None,
) -> tuple[list[CaseResult], dict[str, float]]:
    texts = fetch_document_texts(client, collection)
    results = []
    for case in cases:
        body: dict[str, Any] = {"question": case.question, "mode": mode}
        if collection:
            body["collection"] = collection
        response = client.post("/ask", json=body)
        payload = response.json()
        if response.status_code != 200:
            payload = {"answer": "", "refused": False, "citations": [], "error": payload}
        result = score_case(case, payload, texts)
        if response.status_code != 200:
            result.problems.append(f"HTTP {response.status_code}")
        results.append(result)
        if on_case:
            on_case(result)
    return results, summarize(results)
