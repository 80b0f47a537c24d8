"""Typed dependency aliases: routes get services and the caller's identity through these, never globals."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from qa_service.errors import RateLimitedError, ServiceUnavailableError
from qa_service.security import Principal
from qa_service.services import Services
from qa_service.store import validate_collection_name

_bearer = HTTPBearer(auto_error=False, description="An API key (`qa-service keys create`); needed when keys are set.")


def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise ServiceUnavailableError("the service is still starting", code="not_ready")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_principal(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Authenticate (Bearer key or X-API-Key), then apply the caller's rate limit."""
    presented = credentials.credentials if credentials else request.headers.get("x-api-key")
    principal = services.keys.authenticate(presented)
    request.state.principal = principal.name
    caller = principal.name if services.keys.enabled else (request.client.host if request.client else "-")
    try:
        services.rate_limiter.check(caller)
    except RateLimitedError:
        services.metrics.rejections.labels("rate_limited").inc()
        raise
    return principal


def require_writer(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    principal.require("writer")
    return principal


ReaderDep = Annotated[Principal, Depends(get_principal)]
WriterDep = Annotated[Principal, Depends(require_writer)]


def resolve_collection(services: Services, principal: Principal, name: str | None) -> str:
    """The collection a request names (or the default), checked for form and for the caller's access."""
    collection = validate_collection_name(services.settings.collection if name is None else name)  # "" is a 422
    principal.require_collection(collection)
    return collection
