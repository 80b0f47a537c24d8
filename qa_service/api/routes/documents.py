"""Read access to indexed documents: metadata and the exact text citations point into."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from qa_service.api.deps import ServicesDep
from qa_service.api.schemas import DocumentPublic, ErrorResponse

router = APIRouter(tags=["documents"])
CollectionQuery = Query(default=None, description="Collection; default from settings.")


@router.get("/documents", response_model=list[DocumentPublic])
def list_documents(services: ServicesDep, collection: str | None = CollectionQuery) -> list[DocumentPublic]:
    """Documents of a collection with their state and chunk count."""
    name = collection or services.settings.collection
    return [DocumentPublic(**asdict(info)) for info in services.store.list_documents(name)]


@router.get(
    "/documents/{document_id}/text", response_class=PlainTextResponse, responses={404: {"model": ErrorResponse}}
)
def document_text(
    document_id: str, services: ServicesDep, collection: str | None = CollectionQuery
) -> PlainTextResponse:
    """The cleaned text that citation offsets index into (served as text/plain, never as HTML)."""
    document = services.store.get_document(collection or services.settings.collection, document_id)
    return PlainTextResponse(document.text, headers={"X-Content-Type-Options": "nosniff"})
