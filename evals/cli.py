"""``qa-service eval`` / ``python -m evals``: run the suites, write reports, gate; draft datasets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from evals.gate import gate_run, load_suites
from evals.harness import BASELINES, SuiteRun, ensure_corpus, run_suite
from qa_service.settings import Settings

eval_app = typer.Typer(
    help="Evaluate answer quality and gate on evals/thresholds.toml.",
    no_args_is_help=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
MODES = ("auto", "extractive", "generative")


@eval_app.callback(invoke_without_command=True)
def run(
    ctx: typer.Context,
    suite: Annotated[list[str] | None, typer.Option(help="Suite(s) from thresholds.toml; default: all")] = None,
    mode: Annotated[list[str] | None, typer.Option(help="Answer mode(s); 'all' for every mode")] = None,
    url: Annotated[str | None, typer.Option(help="Evaluate a running server instead of in-process")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the reports")] = Path("eval-out"),
    baseline: Annotated[
        list[str] | None, typer.Option(help="Baseline(s) to run: dense-only, langchain-rag, none; default: both")
    ] = None,
    gate: Annotated[bool, typer.Option(help="Exit 1 when a gated metric is below its threshold")] = True,
) -> None:
    """Run the eval suites (the default command)."""
    if ctx.invoked_subcommand is not None:
        return
    from qa_service.settings import load_settings

    settings = load_settings()
    suites = load_suites()
    chosen = suite or list(suites)
    unknown = [s for s in chosen if s not in suites]
    if unknown:
        raise typer.BadParameter(f"unknown suite(s) {unknown}; known: {sorted(suites)}")
    modes = _modes(mode, settings.answer_mode)
    baselines = _baselines(baseline)
    runs = _run_suites(settings, {s: suites[s] for s in chosen}, modes, url, baselines)
    failures = {r.suite: gate_run(r, suites[r.suite]) for r in runs}
    from evals.report import write_reports

    paths = write_reports(out, runs, failures)
    for r in runs:
        ours = r.systems[0].summary
        keys = ("contains_gold", "citation_recall", "refusal_recall", "false_refusal_rate", "recall@5", "mrr")
        console.print(
            f"[bold]{r.suite}[/bold] {r.systems[0].name}: " + ", ".join(f"{k}={ours[k]:.3f}" for k in keys if k in ours)
        )
    console.print("reports: " + ", ".join(str(p) for p in paths.values()))
    failed = {s: f for s, f in failures.items() if f}
    for s, fs in failed.items():
        for f in fs:
            console.print(f"[red]gate[/red] {s}: {f}")
    if gate and failed:
        raise typer.Exit(1)


def _modes(requested: list[str] | None, default: str) -> list[str]:
    if not requested:
        return [default]
    if "all" in requested:
        return [default, *[m for m in MODES if m != default]]
    bad = [m for m in requested if m not in MODES]
    if bad:
        raise typer.BadParameter(f"unknown mode(s) {bad}; choose from {MODES} or 'all'")
    return list(dict.fromkeys(requested))


def _baselines(requested: list[str] | None) -> list[str]:
    if not requested:
        return list(BASELINES)
    if requested == ["none"]:
        return []
    bad = [b for b in requested if b not in BASELINES]
    if bad:
        raise typer.BadParameter(f"unknown baseline(s) {bad}; choose from {BASELINES} or 'none'")
    return requested


def _run_suites(
    settings: Settings, suites: dict[str, dict[str, object]], modes: list[str], url: str | None, baselines: list[str]
) -> list[SuiteRun]:
    import httpx
    from fastapi.testclient import TestClient

    from evals.dataset import DATASETS_DIR, collection_of, load_dataset
    from qa_service.api.app import create_app
    from qa_service.services import build_services

    services = build_services(settings) if url is None else None
    runs = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        for name, config in suites.items():
            dataset = str(config["dataset"])
            cases = load_dataset(DATASETS_DIR / dataset)
            _collection, corpus = collection_of(cases)
            if services is not None and corpus is not None:
                task = progress.add_task(f"{name}: indexing {corpus}", total=None)
                ensure_corpus(services, corpus, on_file=_advancer(progress, task))
                progress.update(task, visible=False)
            systems = len(modes) + (len(baselines) if services is not None else 0)
            task = progress.add_task(f"{name}: asking", total=len(cases) * systems)
            client = (
                httpx.Client(base_url=url, timeout=120) if url else TestClient(create_app(settings, services=services))
            )
            with client:
                runs.append(
                    run_suite(
                        suite=name,
                        dataset=dataset,
                        client=client,
                        services=services,
                        modes=modes,
                        baselines=baselines,
                        on_case=_advancer(progress, task),
                    )
                )
    return runs


def _advancer(progress: Progress, task: TaskID) -> Callable[[str], None]:
    return lambda _label: progress.advance(task)


@eval_app.command()
def generate(
    collection: Annotated[str, typer.Option(help="Collection to draft questions from")],
    n: Annotated[int, typer.Option("-n", help="How many cases")] = 50,
    out: Annotated[Path | None, typer.Option(help="JSONL file to write; default: stdout")] = None,
) -> None:
    """Draft a dataset from an indexed collection, for a person to review and keep."""
    from evals.generate import draft_cases
    from qa_service.services import build_services
    from qa_service.settings import load_settings

    services = build_services(load_settings())
    cases = draft_cases(services, collection=collection, n=n)
    text = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {len(cases)} draft cases to {out}; review every one before keeping it")
