"""Domain errors. Each carries a stable ``code``; the HTTP layer maps classes to status codes once."""

from __future__ import annotations


class QAError(Exception):
    """Base of every error the service reports to a client or a CLI user."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ConfigurationError(QAError):
    """A setting is missing or wrong; raised at start-up."""

    code = "configuration_error"


class InvalidInputError(QAError):
    """The request is well-formed JSON but its values are not acceptable."""

    code = "invalid_input"


class NotFoundError(QAError):
    """A named document or collection does not exist."""

    code = "not_found"


class UnsupportedDocumentError(QAError):
    """A file cannot be turned into text (unknown type, binary data, broken PDF, no text layer)."""

    code = "unsupported_document"


class ServiceUnavailableError(QAError):
    """The service cannot answer right now (starting up, a backend is down); retrying later may work."""

    code = "unavailable"


class LLMUnavailableError(ServiceUnavailableError):
    """The configured LLM backend cannot be loaded or did not answer."""

    code = "llm_unavailable"


class RetryLaterError(ServiceUnavailableError):
    """Too much work queued right now; ``retry_after`` seconds is a sensible wait."""

    code = "overloaded"

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class StoreUnavailableError(RetryLaterError):
    """The vector store did not answer (connection refused, timeout, a 5xx from the server): transient."""

    code = "store_unavailable"

    def __init__(self, message: str, *, retry_after: float = 5.0, code: str | None = None) -> None:
        super().__init__(message, retry_after=retry_after, code=code)


class RateLimitedError(RetryLaterError):
    """A key (or an address, when the service is open) sent more requests than its rate allows."""

    code = "rate_limited"


class UnauthenticatedError(QAError):
    """No API key, or one the service does not know (401)."""

    code = "unauthenticated"


class ForbiddenError(QAError):
    """A known key without the role or the collection the request needs (403)."""

    code = "forbidden"


class PayloadTooLargeError(QAError):
    """A request body, upload or file over its configured limit (413)."""

    code = "payload_too_large"


class ConflictError(QAError):
    """The resource is not in a state that allows this yet (e.g. a document still being ingested) (409)."""

    code = "conflict"
