"""Typed dependency aliases: routes get services through these, never through globals."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from qa_service.errors import ServiceUnavailableError
from qa_service.services import Services


def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise ServiceUnavailableError("the service is still starting", code="not_ready")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
