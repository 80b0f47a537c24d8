"""The documents API: upload (background ingestion), list, inspect, read, delete, re-index."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import anyio
from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from qa_service.api.deps import ReaderDep, ServicesDep, WriterDep, resolve_collection
from qa_service.api.schemas import (
    COMMON_ERRORS,
    DocumentAccepted,
    DocumentPage,
    DocumentPublic,
    UploadResponse,
    error_responses,
)
from qa_service.domain import MetadataValue
from qa_service.errors import ConflictError, InvalidInputError, PayloadTooLargeError
from qa_service.ingest.jobs import Submission
from qa_service.ingest.loaders import FORMATS_NAMED, LOADERS
from qa_service.ingest.uploads import SpooledUpload, safe_source_name, spool_upload
from qa_service.scope import validate_metadata
from qa_service.store import DocumentInfo

router = APIRouter(tags=["documents"])
CollectionQuery = Annotated[
    str | None, Query(description="Collection; default from settings. Created on first upload.", max_length=100)
]
DocumentPath = Annotated[str, PathParam(description="Document id (from the upload or GET /documents).", max_length=128)]


class FormatPublic(BaseModel):
    name: str = Field(description="How the page and help text name it: its suffixes, or a label.")
    suffixes: list[str]


class FormatList(BaseModel):
    items: list[FormatPublic]


@router.get("/formats", response_model=FormatList)
def list_formats() -> FormatList:
    """The file formats uploads and folder ingestion take (the one table, qa_service/ingest/loaders.py); public,
    like /openapi.json: the page names them in its upload control."""
    return FormatList(items=[FormatPublic(name=loader.named(), suffixes=list(loader.suffixes)) for loader in LOADERS])


@router.post(
    "/documents",
    status_code=202,
    response_model=UploadResponse,
    responses=error_responses(*COMMON_ERRORS, 400, 413, 415),
)
async def upload_documents(
    services: ServicesDep,
    principal: WriterDep,
    files: Annotated[list[UploadFile], File(description=f"One or more files: {FORMATS_NAMED}.")],
    collection: CollectionQuery = None,
    metadata: Annotated[
        str | None,
        Form(
            description='JSON object given to every file of the upload, e.g. `{"tags": ["ops"]}`; `tags` can be '
            "filtered on in questions (filter.tags).",
            max_length=20_000,
        ),
    ] = None,
) -> UploadResponse:
    """Accept files for ingestion and answer at once (202); follow each document at its `status_url`.

    Every file is checked first (name, size, type, content sniff); if one fails, none is accepted."""
    name = resolve_collection(services, principal, collection)
    user_metadata = parse_metadata(metadata)
    limits = services.settings.limits
    if len(files) > limits.max_upload_files:
        raise PayloadTooLargeError(
            f"{len(files)} files in one upload; the limit is {limits.max_upload_files}", code="too_many_files"
        )
    spooled: list[SpooledUpload] = []
    try:
        for upload in files:
            source = safe_source_name(upload.filename)
            spooled.append(
                await spool_upload(
                    upload, source=source, directory=services.jobs.incoming_dir, max_bytes=limits.max_upload_bytes
                )
            )
        # The same bytes under several names are one document: submitted once, reported with every name.
        names: dict[str, list[str]] = {}
        for item in spooled:
            names.setdefault(item.document_id, []).append(item.source)
        accepted = []
        for item in spooled:
            if item.document_id in names and names[item.document_id][0] == item.source:
                submission = await anyio.to_thread.run_sync(services.jobs.submit, name, item, user_metadata)
                accepted.append(_accepted(submission, name, names.pop(item.document_id)))
    finally:
        for item in spooled:  # duplicates and anything left by an error (submitted files were moved)
            item.path.unlink(missing_ok=True)
    return UploadResponse(items=accepted)


@router.get("/documents", response_model=DocumentPage, responses=error_responses(*COMMON_ERRORS, 404))
def list_documents(
    services: ServicesDep,
    principal: ReaderDep,
    collection: CollectionQuery = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DocumentPage:
    """Documents of a collection in every state, ordered by source, a page at a time."""
    name = resolve_collection(services, principal, collection)
    infos = services.store.list_documents(name)
    return DocumentPage(
        collection=name,
        total=len(infos),
        offset=offset,
        limit=limit,
        items=[_public(info, name) for info in infos[offset : offset + limit]],
    )


@router.get("/documents/{document_id}", response_model=DocumentPublic, responses=error_responses(*COMMON_ERRORS, 404))
def get_document(
    document_id: DocumentPath, services: ServicesDep, principal: ReaderDep, collection: CollectionQuery = None
) -> DocumentPublic:
    """One document's metadata and ingestion state (and the error, when it failed)."""
    name = resolve_collection(services, principal, collection)
    return _public(services.store.document_info(name, document_id), name)


@router.get(
    "/documents/{document_id}/text",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, **error_responses(*COMMON_ERRORS, 404, 409, plain_route=True)},
)
def document_text(
    document_id: DocumentPath, services: ServicesDep, principal: ReaderDep, collection: CollectionQuery = None
) -> PlainTextResponse:
    """The cleaned text that citation offsets index into (served as text/plain, never as HTML)."""
    name = resolve_collection(services, principal, collection)
    document = services.store.get_document(name, document_id)
    if not document.text:
        raise ConflictError(f"document {document_id!r} has not been parsed yet", code="document_not_ready")
    return PlainTextResponse(document.text, headers={"X-Content-Type-Options": "nosniff"})


@router.delete("/documents/{document_id}", status_code=204, responses=error_responses(*COMMON_ERRORS, 404))
def delete_document(
    document_id: DocumentPath, services: ServicesDep, principal: WriterDep, collection: CollectionQuery = None
) -> Response:
    """Remove a document, its chunks (vector and lexical indexes) and any spooled upload."""
    name = resolve_collection(services, principal, collection)
    services.jobs.delete(name, document_id)
    return Response(status_code=204)


@router.post(
    "/documents/{document_id}/reindex",
    status_code=202,
    response_model=DocumentAccepted,
    responses=error_responses(*COMMON_ERRORS, 404),
)
def reindex_document(
    document_id: DocumentPath, services: ServicesDep, principal: WriterDep, collection: CollectionQuery = None
) -> DocumentAccepted:
    """Chunk and embed a document again with the current settings (in the background)."""
    name = resolve_collection(services, principal, collection)
    return _accepted(services.jobs.reindex(name, document_id), name)


def parse_metadata(raw: str | None) -> dict[str, MetadataValue]:
    """The upload's ``metadata`` form field: a JSON object (422 naming the field otherwise)."""
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"metadata: not valid JSON ({exc.msg})", code="invalid_metadata") from None
    if not isinstance(value, dict):
        raise InvalidInputError("metadata: must be a JSON object", code="invalid_metadata")
    return validate_metadata(value)


def _accepted(submission: Submission, collection: str, names: list[str] | None = None) -> DocumentAccepted:
    return DocumentAccepted(
        id=submission.document_id,
        source=submission.source,
        names=names or [submission.source],
        collection=collection,
        state=submission.state,
        queued=submission.queued,
        status_url=f"/documents/{submission.document_id}?collection={collection}",
    )


def _public(info: DocumentInfo, collection: str) -> DocumentPublic:
    return DocumentPublic(**asdict(info), collection=collection)
