"""A small typed HTTP client of a running qa-service: ask (JSON or streamed), retrieve, and documents.

Responses are the service's own models (``AskResponse``, ``DocumentPage``...), so a client is checked
against the same schema the server answers with. Errors come back as ``QAServiceHTTPError`` carrying
the status and the service's error code.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import httpx

from qa_service.api.schemas import AskResponse, DocumentAccepted, DocumentPage, DocumentPublic, UploadResponse
from qa_service.errors import QAError

Mode = Literal["auto", "extractive", "generative"]


class QAServiceHTTPError(QAError):
    """A non-2xx answer from the service, with its status and error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}", code=code)
        self.status = status


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One Server-Sent Event of a streamed answer: ``progress``, ``token`` or ``final`` (``error`` raises)."""

    event: str
    data: dict[str, Any]

    def response(self) -> AskResponse:
        """The full answer carried by the ``final`` event."""
        return AskResponse.model_validate(self.data)


def scope_body(
    document_ids: Sequence[str] | None = None,
    sources: Sequence[str] | None = None,
    filter: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The scope fields of a request body, leaving out those not given."""
    body: dict[str, Any] = {}
    if document_ids is not None:
        body["document_ids"] = list(document_ids)
    if sources is not None:
        body["sources"] = list(sources)
    if filter is not None:
        body["filter"] = dict(filter)
    return body


class QAServiceClient:
    """``QAServiceClient("http://127.0.0.1:8000", api_key=...)``; usable as a context manager."""

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout, transport=transport)

    def __enter__(self) -> QAServiceClient:
        return self

    def __exit__(self, *exc: tuple[type[BaseException], BaseException, TracebackType] | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- questions -------------------------------------------------------------------------------

    def ask(
        self,
        question: str,
        *,
        collection: str | None = None,
        top_k: int | None = None,
        mode: Mode | None = None,
        history: Sequence[Mapping[str, str]] = (),
        document_ids: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> AskResponse:
        """``POST /ask``: a grounded answer with exact citations."""
        body = self._ask_body(question, collection, top_k, mode, history, scope_body(document_ids, sources, filter))
        return AskResponse.model_validate(self._json("POST", "/ask", json=body))

    def ask_stream(
        self,
        question: str,
        *,
        collection: str | None = None,
        top_k: int | None = None,
        mode: Mode | None = None,
        history: Sequence[Mapping[str, str]] = (),
        document_ids: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> Iterator[StreamEvent]:
        """``POST /ask`` with ``stream: true``: events as they arrive; an ``error`` event raises."""
        body = self._ask_body(question, collection, top_k, mode, history, scope_body(document_ids, sources, filter))
        with self._http.stream("POST", "/ask", json={**body, "stream": True}) as response:
            if response.status_code >= 400:
                response.read()
                raise _error(response)
            event = "message"
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    data = json.loads(line.removeprefix("data:").strip())
                    if event == "error":
                        raise QAServiceHTTPError(200, str(data.get("code")), str(data.get("message")))
                    yield StreamEvent(event, data)

    def retrieve(
        self,
        query: str,
        *,
        k: int = 4,
        collection: str | None = None,
        mode: Literal["hybrid", "dense"] = "hybrid",
        document_ids: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """``POST /retrieve``: the ``k`` best chunks (id, document_id, source, title, text, start, end, page,
        score), best first."""
        body: dict[str, Any] = {"query": query, "k": k, "mode": mode, **scope_body(document_ids, sources, filter)}
        if collection is not None:
            body["collection"] = collection
        items: list[dict[str, Any]] = self._json("POST", "/retrieve", json=body)["items"]
        return items

    # -- documents -------------------------------------------------------------------------------

    def upload(
        self,
        files: Sequence[Path | tuple[str, bytes]],
        *,
        collection: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> list[DocumentAccepted]:
        """``POST /documents``: files (paths, or (name, bytes)) queued for ingestion."""
        parts = [("files", (f.name, f.read_bytes()) if isinstance(f, Path) else f) for f in files]
        data = {"metadata": json.dumps(dict(metadata))} if metadata else None
        found = self._json("POST", "/documents", params=_collection(collection), files=parts, data=data)
        return UploadResponse.model_validate(found).items

    def list_documents(self, *, collection: str | None = None, offset: int = 0, limit: int = 100) -> DocumentPage:
        params = {**_collection(collection), "offset": offset, "limit": limit}
        return DocumentPage.model_validate(self._json("GET", "/documents", params=params))

    def get_document(self, document_id: str, *, collection: str | None = None) -> DocumentPublic:
        return DocumentPublic.model_validate(
            self._json("GET", f"/documents/{document_id}", params=_collection(collection))
        )

    def document_text(self, document_id: str, *, collection: str | None = None) -> str:
        """The cleaned text that citation offsets index into."""
        return self._request("GET", f"/documents/{document_id}/text", params=_collection(collection)).text

    def delete_document(self, document_id: str, *, collection: str | None = None) -> None:
        self._request("DELETE", f"/documents/{document_id}", params=_collection(collection))

    def wait_until_processed(
        self, document_ids: Sequence[str], *, collection: str | None = None, timeout: float = 300.0
    ) -> list[DocumentPublic]:
        """Poll until every document is ``ready`` or ``failed``; returns their records."""
        deadline = time.monotonic() + timeout
        while True:
            records = [self.get_document(d, collection=collection) for d in document_ids]
            if all(r.state in ("ready", "failed") for r in records):
                return records
            if time.monotonic() > deadline:
                raise TimeoutError(f"documents still in progress after {timeout}s: {[r.id for r in records]}")
            time.sleep(0.2)

    # -- plumbing --------------------------------------------------------------------------------

    @staticmethod
    def _ask_body(
        question: str,
        collection: str | None,
        top_k: int | None,
        mode: Mode | None,
        history: Sequence[Mapping[str, str]],
        scope: dict[str, Any],
    ) -> dict[str, Any]:
        given = {"collection": collection, "top_k": top_k, "mode": mode}
        body = {"question": question, **{k: v for k, v in given.items() if v is not None}, **scope}
        if history:
            body["history"] = [dict(turn) for turn in history]
        return body

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._request(method, path, **kwargs).json()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise _error(response)
        return response


def _collection(collection: str | None) -> dict[str, str]:
    return {"collection": collection} if collection is not None else {}


def _error(response: httpx.Response) -> QAServiceHTTPError:
    try:
        body = response.json()["error"]
        return QAServiceHTTPError(response.status_code, str(body["code"]), str(body["message"]))
    except (ValueError, KeyError, TypeError):
        return QAServiceHTTPError(response.status_code, "http_error", response.text[:500])
