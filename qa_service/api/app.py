"""``create_app(settings)`` builds the FastAPI app; heavy objects are opened in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from qa_service import __version__
from qa_service.api.errors import install_error_handlers
from qa_service.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from qa_service.api.routes import ask, collections, documents, feedback, health, openai_compat, page, retrieve
from qa_service.metrics import Metrics
from qa_service.services import Services, build_services
from qa_service.settings import Settings

log = logging.getLogger("qa_service")
WARM_UP_CHUNKS = 200  # sentences of this many chunks are embedded at start-up (a few seconds at most)


def create_app(settings: Settings, *, services: Services | None = None) -> FastAPI:
    """The app. Pass ``services`` to share already-built services (tests); otherwise built at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        built: Services = services if services is not None else await anyio.to_thread.run_sync(build_services, settings)
        if not built.keys.enabled:
            log.warning("no API keys configured: the service is open to anyone who can reach it")
        recovered = await anyio.to_thread.run_sync(built.jobs.recover)
        if recovered:
            log.warning("%d documents were left unfinished by the last run; resumed or marked failed", len(recovered))
        built.jobs.start()
        if built.store.has_collection(settings.collection):
            # Build the lexical index and run the models once now, so the first question does not pay for it.
            index = await anyio.to_thread.run_sync(built.retriever.lexical_index, settings.collection)
            chunks = index.chunks[:WARM_UP_CHUNKS]
            cached = await anyio.to_thread.run_sync(
                lambda: built.answerer.warm_up(chunks, collection=settings.collection)
            )
            log.info("warm-up: %d sentences of %d chunks embedded", cached, len(chunks))
        else:
            log.warning("collection %r is empty: run `qa-service ingest PATH` first", settings.collection)
        app.state.services = built
        yield
        app.state.services = None
        await anyio.to_thread.run_sync(built.jobs.stop)

    app = FastAPI(
        title="qa-service",
        version=__version__,
        summary="Grounded question answering over your documents, with exact character-level citations.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.limits.max_request_bytes,
        # the multipart envelope of max_upload_files full files, with room for the part headers
        max_upload_bytes=settings.limits.max_upload_files * (settings.limits.max_upload_bytes + 4096),
    )
    app.add_middleware(RequestContextMiddleware, metrics=lambda: _metrics(app))
    app.include_router(ask.router)
    app.include_router(retrieve.router)
    app.include_router(documents.router)
    app.include_router(collections.router)
    app.include_router(feedback.router)
    app.include_router(health.router)
    app.include_router(page.router)
    app.include_router(openai_compat.router)
    app.mount("/static", StaticFiles(directory=page.WEB_DIR), name="static")
    return app


def _metrics(app: FastAPI) -> Metrics | None:
    services: Services | None = getattr(app.state, "services", None)
    return services.metrics if services is not None else None


def app_from_env() -> FastAPI:
    """uvicorn factory (``qa-service serve``): settings from the QA_* environment."""
    from qa_service.logs import configure_logging
    from qa_service.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_format)  # again here: uvicorn's worker processes start fresh
    return create_app(settings)
