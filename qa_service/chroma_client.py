"""Opens the Chroma client the settings ask for: embedded under ``data_dir``, or a Chroma server by URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from qa_service.errors import ConfigurationError, StoreUnavailableError
from qa_service.settings import Settings


def open_chroma_client(settings: Settings) -> Any:
    """``chromadb.PersistentClient`` when ``QA_CHROMA__URL`` is unset, else ``chromadb.HttpClient``.

    Several API processes may share one server; the store's version token keeps their BM25 indexes in step.
    """
    import chromadb
    from chromadb.config import Settings as ClientSettings

    client_settings = ClientSettings(anonymized_telemetry=False)
    if settings.chroma.url is None:
        path = settings.data_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=client_settings)
    url = urlsplit(settings.chroma.url)
    if url.hostname is None:
        raise ConfigurationError(f"QA_CHROMA__URL: no host in {settings.chroma.url!r}")
    ssl = url.scheme == "https"
    port = url.port or (443 if ssl else 8000)
    try:
        return chromadb.HttpClient(
            host=url.hostname, port=port, ssl=ssl, headers=_auth_headers(settings), settings=client_settings
        )
    except Exception as exc:  # chromadb checks the server at construction: refused, 401, timeout...
        raise StoreUnavailableError(f"cannot reach the Chroma server at {settings.chroma.url}: {exc}") from exc


def _auth_headers(settings: Settings) -> dict[str, str]:
    token = settings.chroma.token
    if not token:
        return {}
    if settings.chroma.token_header == "Authorization":
        return {"Authorization": f"Bearer {token}"}
    return {"X-Chroma-Token": token}
