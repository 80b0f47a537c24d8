"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from qa_service.api.deps import ReaderDep, ServicesDep
from qa_service.api.schemas import COMMON_ERRORS, error_responses
from qa_service.errors import StoreUnavailableError
from qa_service.services import Services, document_gauges

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Ready once models are loaded, the lexical index of the default collection is built, and the store
    answers. Open to anyone (probes carry no key), so it says nothing about collections."""
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        return JSONResponse(status_code=503, content={"status": "starting"})
    try:
        services.store.check_available()
    except StoreUnavailableError as exc:
        return JSONResponse(
            status_code=503, content={"status": "store_unavailable"}, headers={"Retry-After": str(int(exc.retry_after))}
        )
    return JSONResponse({"status": "ready"})


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus text format"},
        **error_responses(*COMMON_ERRORS, plain_route=True),
    },
)
def metrics(services: ServicesDep, principal: ReaderDep) -> Response:
    """Prometheus metrics: requests and latencies per route, /ask stage latencies, queues, and document states
    of the collections the caller's key may use."""
    scoped = document_gauges(services.store, principal.may_use)
    return Response(services.metrics.render(scoped), media_type=CONTENT_TYPE_LATEST)
