"""Command line: ``qa-service ingest | ask | serve``; every command honours the QA_* settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from qa_service.errors import QAError
from qa_service.ingest.loaders import FORMATS_NAMED
from qa_service.settings import AnswerMode, Settings, load_settings

if TYPE_CHECKING:
    from qa_service.api.schemas import AskResponse

app = typer.Typer(
    help="Grounded question answering over your documents.", no_args_is_help=True, pretty_exceptions_enable=False
)
console = Console()
err_console = Console(stderr=True)


def _settings() -> Settings:
    try:
        return load_settings()
    except QAError as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(2) from None


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help=f"Files or folders ({FORMATS_NAMED})", exists=True)],
    collection: Annotated[str | None, typer.Option(help="Collection name (default: QA_COLLECTION)")] = None,
) -> None:
    """Load, clean, chunk, embed and store documents; unchanged files are skipped."""
    from qa_service.ingest.pipeline import IngestResult, iter_source_files
    from qa_service.services import build_services

    settings = _settings()
    files = list(iter_source_files(paths))
    if not files:
        err_console.print("[yellow]no supported files found[/yellow]")
        raise typer.Exit(1)
    with console.status("loading the embedding model"):
        services = build_services(settings)
    name = collection or settings.collection
    # The bar counts bytes (embedding reports them as it goes), so it moves through a large file too.
    columns = (
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(binary_units=True), TimeElapsedColumn(),
        TimeRemainingColumn(),
    )  # fmt: skip
    done_files = 0
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"ingesting 0/{len(files)} files", total=sum(_size(f) for f in files))

        def on_progress(result: IngestResult) -> None:
            nonlocal done_files
            done_files += 1
            if result.outcome == "failed":
                progress.console.print(f"[red]failed[/red] {escape(result.source)}: {escape(result.error or '')}")
            progress.update(task, description=f"ingesting {done_files}/{len(files)} files")

        report = services.ingestor.ingest_paths(
            files, collection=name, on_progress=on_progress, on_bytes=lambda n: progress.advance(task, n)
        )
    counts = ", ".join(f"{report.count(o)} {o}" for o in ("added", "replaced", "reindexed", "unchanged", "failed"))
    console.print(f"{name}: {counts}; {report.chunks} chunks written")
    if report.count("failed"):
        raise typer.Exit(1)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question")],
    collection: Annotated[str | None, typer.Option(help="Collection name")] = None,
    mode: Annotated[str | None, typer.Option(help="auto | extractive | generative")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the /ask JSON response")] = False,
    url: Annotated[
        str | None, typer.Option(envvar="QA_URL", help="Ask a running server (e.g. http://127.0.0.1:8000)")
    ] = None,
    api_key: Annotated[str | None, typer.Option(envvar="QA_API_KEY", help="API key for --url")] = None,
    document: Annotated[list[str] | None, typer.Option(help="Only this document id (repeatable)")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only sources matching this glob (repeatable)")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only documents with this tag (repeatable)")] = None,
) -> None:
    """Answer one question and print its citations: from a running server when --url or QA_URL is set
    (no models loaded here), else in this process."""
    if mode not in (None, "auto", "extractive", "generative"):
        err_console.print("[red]error:[/red] --mode must be auto, extractive or generative")
        raise typer.Exit(2)
    scope = {"document_ids": document or None, "sources": source or None, "filter": {"tags": tag} if tag else None}
    try:
        if url:
            err_console.print(f"[dim]asking the server at {escape(url)}[/dim]", highlight=False)
            response = _ask_remote(url, api_key, question, collection, mode, scope)
        else:
            response = _ask_here(question, collection, mode, scope)
    except QAError as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(1) from None
    if as_json:
        console.print_json(response.model_dump_json())
        return
    console.print(escape(response.answer), highlight=False)
    if response.refused and response.refusal_reason:
        console.print(f"[dim]({escape(response.refusal_reason)})[/dim]")
    for c in response.citations:
        console.print(
            f"[bold][{c.index}][/bold] {escape(c.source)} [{c.start}:{c.end}]: "
            f"[italic]{escape(json.dumps(c.quote, ensure_ascii=False))}[/italic]",
            highlight=False,
        )
    console.print(f"[dim]mode: {response.mode}; {response.timings_ms['total']:.0f} ms[/dim]")


def _ask_remote(
    url: str, api_key: str | None, question: str, collection: str | None, mode: str | None, scope: dict[str, Any]
) -> AskResponse:
    import httpx

    from qa_service.client import QAServiceClient

    try:
        with QAServiceClient(url, api_key=api_key) as client:
            return client.ask(question, collection=collection, mode=mode, **scope)  # type: ignore[arg-type]
    except httpx.HTTPError as exc:
        raise QAError(f"cannot reach {url}: {exc}") from None


def _ask_here(question: str, collection: str | None, mode: str | None, scope: dict[str, Any]) -> AskResponse:
    from qa_service.api.routes.ask import scoped_answerer, to_response
    from qa_service.api.schemas import ScopeFields
    from qa_service.services import build_services

    settings = _settings()
    services = build_services(settings)
    name = collection or settings.collection
    if not services.store.has_collection(name):
        raise QAError(f"collection {name!r} does not exist: run `qa-service ingest PATH` first")
    answerer = scoped_answerer(services, name, ScopeFields.model_validate(scope).scope())
    chosen: AnswerMode = mode or settings.answer_mode  # type: ignore[assignment]
    answer = answerer.ask(question, collection=name, top_k=settings.retrieval.top_k, mode=chosen)
    return to_response(answer, name)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """Serve the HTTP API (and the OpenAPI docs at /docs)."""
    import uvicorn

    from qa_service.logs import configure_logging
    from qa_service.security import KeyRing, check_bind_address

    settings = _settings()  # fail fast on a wrong setting, before uvicorn starts
    try:
        check_bind_address(host, KeyRing.from_settings(settings.auth), settings.auth)
    except QAError as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(2) from None
    configure_logging(settings.log_format)
    uvicorn.run(
        "qa_service.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # keep our JSON handler (configure_logging) instead of uvicorn's own
        timeout_graceful_shutdown=10,
    )


keys_app = typer.Typer(help="API keys: create one and print the entry to configure.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def create_key(
    name: Annotated[str, typer.Option(help="A name for the key (shown in logs)")],
    role: Annotated[str, typer.Option(help="reader (ask, read) or writer (also upload, delete)")] = "reader",
    collection: Annotated[list[str] | None, typer.Option(help="Restrict to this collection (repeatable)")] = None,
) -> None:
    """Print a new random key (shown once) and the hashed entry for QA_AUTH__KEYS or the keys file."""
    from qa_service.security import KeyRing, key_entry, new_key

    if role not in ("reader", "writer"):
        err_console.print("[red]error:[/red] --role must be reader or writer")
        raise typer.Exit(2)
    key = new_key()
    entry = key_entry(name, role, key, collection)  # type: ignore[arg-type]
    try:
        KeyRing([entry])
    except QAError as exc:
        err_console.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(2) from None
    console.print(f"key (give it to the client; it is not stored): {key}", highlight=False)
    console.print(f"entry (add to QA_AUTH__KEYS or the keys file): {entry}", highlight=False)


def _add_eval_commands() -> None:
    # The eval harness lives in the top-level ``evals`` package (data + evaluators, separate from the
    # service); it is importable when the project is installed from its checkout, as `make setup` does.
    try:
        from evals.cli import eval_app
    except ImportError:  # pragma: no cover - installed without the evals package
        return
    app.add_typer(eval_app, name="eval")


_add_eval_commands()

if __name__ == "__main__":
    app()
