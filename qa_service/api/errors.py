"""The one place where errors become HTTP responses: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qa_service.errors import (
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    QAError,
    RateLimitedError,
    RetryLaterError,
    ServiceUnavailableError,
    UnauthenticatedError,
    UnsupportedDocumentError,
)

log = logging.getLogger("qa_service.api")

_STATUS: dict[type[QAError], int] = {
    InvalidInputError: 422,
    NotFoundError: 404,
    UnsupportedDocumentError: 415,
    ServiceUnavailableError: 503,
    RateLimitedError: 429,
    UnauthenticatedError: 401,
    ForbiddenError: 403,
    PayloadTooLargeError: 413,
    ConflictError: 409,
    ConfigurationError: 500,
}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}}, headers=headers)


def _headers_for(exc: QAError) -> dict[str, str] | None:
    if isinstance(exc, RetryLaterError):
        return {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    if isinstance(exc, UnauthenticatedError):
        return {"WWW-Authenticate": "Bearer"}
    return None


def _status_for(exc: QAError) -> int:
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 400


def _is_oversized_number(cause: BaseException | None) -> bool:
    """JSON parsing refused an integer over Python's digit limit (``sys.get_int_max_str_digits``): the body
    is valid JSON with a wrong value, so a 422 like any other out-of-range number, not a 400."""
    return isinstance(cause, ValueError) and "integer string conversion" in str(cause)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QAError)
    async def _qa_error(_: Request, exc: QAError) -> JSONResponse:
        return error_response(_status_for(exc), exc.code, exc.message, _headers_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        errors = exc.errors()
        for err in errors[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        code = "invalid_text" if any(err.get("type") == "invalid_text" for err in errors) else "validation_error"
        return error_response(422, code, "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and _is_oversized_number(exc.__cause__):
            return error_response(422, "validation_error", "a number in the body has too many digits")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), dict(exc.headers or {}) or None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # Starlette raises the error again once this response is sent, and the server then drops the
        # connection: "Connection: close" tells a keep-alive client not to send its next request on it.
        return error_response(
            500, "internal_error", "internal error; the server log has the details", {"Connection": "close"}
        )
