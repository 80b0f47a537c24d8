"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from qa_service.api.deps import ReaderDep, ServicesDep
from qa_service.api.schemas import COMMON_ERRORS, error_responses
from qa_service.services import Services

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Ready once models are loaded and the lexical index of the default collection is built."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        return JSONResponse(status_code=503, content={"status": "starting"})
    collection = services.settings.collection
    chunks = 0
    if services.store.has_collection(collection):
        chunks = len(services.retriever.lexical_index(collection).index.chunks)
    return JSONResponse({"status": "ready", "collection": collection, "chunks": chunks})


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
        **error_responses(*COMMON_ERRORS, plain_route=True),
    },
)
def metrics(services: ServicesDep, _: ReaderDep) -> Response:
    """Prometheus metrics: requests and latencies per route, /ask stage latencies, document states, queues."""
    return Response(services.metrics.render(), media_type=CONTENT_TYPE_LATEST)
