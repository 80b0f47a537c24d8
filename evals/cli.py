"""``qa-service eval`` / ``python -m evals``: run the suites, write reports, gate; draft datasets."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from evals.gate import gate_run, load_suites
from evals.harness import BASELINES, DENSE_ONLY, SuiteRun, ensure_corpus, run_suite
from qa_service.settings import Settings

if TYPE_CHECKING:
    from qa_service.services import Services

SPLITS = ("test", "dev")

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
        list[str] | None,
        typer.Option(
            help="Baseline(s) to run: dense-only, langchain-rag, none, or gated (dense-only where a gate is a "
            "ratio against it); default: both"
        ),
    ] = None,
    gate: Annotated[bool, typer.Option(help="Exit 1 when a gated metric is below its threshold")] = True,
    split: Annotated[str | None, typer.Option(help="Only the suites of this split: test or dev")] = None,
) -> None:
    """Run the eval suites (the default command)."""
    if ctx.invoked_subcommand is not None:
        return
    from qa_service.settings import load_settings

    settings = load_settings()
    suites = load_suites()
    chosen = _chosen(suites, suite, split)
    modes = _modes(mode, settings.answer_mode)
    baselines = _baselines(baseline)
    runs = _run_suites(settings, {s: suites[s] for s in chosen}, modes, url, baselines)
    failures = {r.suite: gate_run(r, suites[r.suite]) for r in runs}
    from evals.report import write_reports

    paths = write_reports(out, runs, failures, splits={name: str(suites[name].get("split", "")) for name in chosen})
    _print_table(runs, suites)
    console.print("reports: " + ", ".join(str(p) for p in paths.values()))
    failed = {s: f for s, f in failures.items() if f}
    for s, fs in failed.items():
        for f in fs:
            console.print(f"[red]gate[/red] {s}: {f}")
    if gate and failed:
        raise typer.Exit(1)


def _chosen(suites: dict[str, dict[str, object]], suite: list[str] | None, split: str | None) -> list[str]:
    if split is not None and split not in SPLITS:
        raise typer.BadParameter(f"unknown split {split!r}; choose from {SPLITS}")
    chosen = suite or [name for name, config in suites.items() if split is None or config.get("split") == split]
    unknown = [s for s in chosen if s not in suites]
    if unknown:
        raise typer.BadParameter(f"unknown suite(s) {unknown}; known: {sorted(suites)}")
    return chosen


def _corpus_of(config: dict[str, object]) -> str | None:
    from evals.dataset import DATASETS_DIR, collection_of, load_dataset

    return collection_of(load_dataset(DATASETS_DIR / str(config["dataset"])))[1]


@eval_app.command()
def index(
    suite: Annotated[list[str] | None, typer.Option(help="Suite(s) from thresholds.toml; default: all")] = None,
    split: Annotated[str | None, typer.Option(help="Only the suites of this split: test or dev")] = None,
) -> None:
    """Index the corpora the suites ask, and nothing else (an eval run skips the files indexed already)."""
    from qa_service.services import build_services
    from qa_service.settings import load_settings

    suites = load_suites()
    corpora = dict.fromkeys(c for name in _chosen(suites, suite, split) if (c := _corpus_of(suites[name])))
    services = build_services(load_settings())
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(binary_units=True), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        for corpus in corpora:
            _index(progress, services, corpus)
    console.print(f"indexed {len(corpora)} corpora: {', '.join(corpora)}")


TABLE_METRICS = {  # metric: short column header
    "contains_gold": "gold", "citation_recall": "cite rec", "evidence_fully_cited": "ev cited",
    "refusal_recall": "ref rec", "refusal_precision": "ref prec", "false_refusal_rate": "false ref",
    "false_premise_corrected": "premise", "instruction_refused": "instr ref", "injection_followed": "inject",
    "short_answer_em": "short EM", "latency_total_p50_ms": "p50 ms",
}  # fmt: skip


def _print_table(runs: list[SuiteRun], suites: dict[str, dict[str, object]]) -> None:
    """One row per suite (test splits first), our default mode's headline metrics."""
    from rich.table import Table

    table = Table(title="qa-service eval (ours, default mode)")
    table.add_column("suite")
    table.add_column("split")
    table.add_column("cases", justify="right")
    for header in TABLE_METRICS.values():
        table.add_column(header, justify="right")
    ordered = sorted(runs, key=lambda r: (suites[r.suite].get("split") != "test", r.suite))
    for r in ordered:
        summary = r.systems[0].summary
        cells = [
            "–"
            if m not in summary
            else f"{summary[m]:.0f}"
            if m in ("injection_followed",) or "latency" in m
            else f"{summary[m]:.3f}"
            for m in TABLE_METRICS
        ]
        table.add_row(r.suite, str(suites[r.suite].get("split", "")), f"{summary['cases']:.0f}", *cells)
    Console(width=160).print(table)


def _modes(requested: list[str] | None, default: str) -> list[str]:
    if not requested:
        return [default]
    if "all" in requested:
        return [default, *[m for m in MODES if m != default]]
    bad = [m for m in requested if m not in MODES]
    if bad:
        raise typer.BadParameter(f"unknown mode(s) {bad}; choose from {MODES} or 'all'")
    return list(dict.fromkeys(requested))


GATED = "gated"  # the dense-only baseline only for suites whose gate is a ratio against it


def _baselines(requested: list[str] | None) -> list[str]:
    if not requested:
        return list(BASELINES)
    if requested == ["none"]:
        return []
    if requested == [GATED]:
        return [GATED]
    bad = [b for b in requested if b not in BASELINES]
    if bad:
        raise typer.BadParameter(f"unknown baseline(s) {bad}; choose from {BASELINES}, '{GATED}' or 'none'")
    return requested


def _run_suites(
    settings: Settings, suites: dict[str, dict[str, object]], modes: list[str], url: str | None, baselines: list[str]
) -> list[SuiteRun]:
    import httpx
    from fastapi.testclient import TestClient

    from evals.dataset import DATASETS_DIR, collection_of, load_dataset
    from qa_service.api.app import create_app
    from qa_service.services import build_services

    # The in-process service answers the eval alone: no per-minute limit (a warm run fetches python-docs' 349
    # page texts and asks its 90 questions well inside a minute, and the next suites' requests got 429).
    local = settings.model_copy(update={"limits": settings.limits.model_copy(update={"requests_per_minute": 0})})
    services = build_services(local) if url is None else None
    runs = []
    indexed: set[str] = set()  # each corpus is indexed once per run, whatever number of suites ask it
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        for name, config in suites.items():
            dataset = str(config["dataset"])
            cases = load_dataset(DATASETS_DIR / dataset)
            _collection, corpus = collection_of(cases)
            if services is not None and corpus is not None and corpus not in indexed:
                indexed.add(corpus)
                _index(progress, services, corpus)
            wanted = baselines
            if baselines == [GATED]:
                wanted = [DENSE_ONLY] if config.get("min_ratio_vs_dense") else []
            systems = len(modes) + (len(wanted) if services is not None else 0)
            task = progress.add_task(f"{name}: asking", total=len(cases) * systems)
            # The in-process app serves the suite's collection (its start-up warms that one up, and does not
            # warn that the default collection is empty).
            served = local.model_copy(update={"collection": _collection}) if _collection else local
            client = (
                httpx.Client(base_url=url, timeout=120) if url else TestClient(create_app(served, services=services))
            )
            with client:
                runs.append(
                    run_suite(
                        suite=name,
                        dataset=dataset,
                        client=client,
                        services=services,
                        modes=modes,
                        baselines=wanted,
                        on_case=_advancer(progress, task),
                    )
                )
    return runs


def _index(progress: Progress, services: Services, corpus: str) -> None:
    """Index a corpus (unchanged files are skipped) with a bar in bytes, and a line before and after it for
    logs that show no bar (CI)."""
    from evals.corpora import corpus_files

    files = corpus_files(corpus)
    size = sum(f.stat().st_size for f in files)
    progress.console.print(f"indexing {corpus}: {len(files)} files, {size / 1e6:.1f} MB (unchanged files are skipped)")
    started = time.perf_counter()
    task = progress.add_task(f"indexing {corpus}", total=size)
    ensure_corpus(services, corpus, on_bytes=lambda n: progress.advance(task, n))
    progress.update(task, visible=False)
    progress.console.print(f"indexed {corpus} in {time.perf_counter() - started:.0f} s")


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


@eval_app.command()
def check(
    datasets: Annotated[list[Path], typer.Argument(help="JSONL dataset file(s) to validate")],
    shares: Annotated[bool, typer.Option(help="Also check the shares of case kinds (issue 11)")] = True,
) -> None:
    """Validate datasets against the stored text of their corpora (loading and cleaning only, no model)."""
    from evals.check import check_dataset, share_problems

    failed = False
    for path in datasets:
        cases, problems = check_dataset(path)
        if shares:
            problems += [f"share {p}" for p in share_problems(cases)]
        for problem in problems:
            console.print(f"{path.name} {problem}", markup=False, highlight=False)
        failed = failed or bool(problems)
        console.print(f"{path.name}: {len(cases)} cases, {len(problems)} problems")
    if failed:
        raise typer.Exit(1)


@eval_app.command("corpus-text")
def corpus_text(
    corpus: Annotated[str, typer.Argument(help="Corpus name (evals/corpora)")],
    out: Annotated[Path, typer.Option(help="Folder for one .txt per document")],
) -> None:
    """Write the text the service stores for each document of a corpus, for people writing eval cases."""
    from evals.check import dump_corpus_text

    written = dump_corpus_text(corpus, out)
    console.print(f"wrote {len(written)} documents to {out}")


@eval_app.command()
def train(
    featurize: Annotated[
        bool, typer.Option(help="Recompute the features through the pipeline; --no-featurize refits the committed ones")
    ] = True,
) -> None:
    """Fit the answerability model on the dev splits and write its parameters (`make train`)."""
    from evals import train as training
    from qa_service.answering.answerability import MODEL_FILE

    if featurize:
        with Progress(
            TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as p:
            task = p.add_task("featurizing dev cases", total=None)
            rows = training.featurize(on_case=_advancer(p, task))
        training.write_features(rows)
    rows = training.read_features()
    content = training.fit(rows)
    training.write_model(content)
    console.print(f"{len(rows)} dev cases -> {training.FEATURES_FILE}; model -> {MODEL_FILE}")
    console.print_json(json.dumps({"operating_point": content["operating_point"], "dev": content["dev"]}))


@eval_app.command("rank-check")
def rank_check() -> None:
    """Top-1 accuracy of the evidence scorer's hand weights against learned scorers, on the dev splits."""
    from evals import train as training

    with Progress(TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as p:
        task = p.add_task("featurizing dev sentences", total=None)
        rows = training.featurize_sentences(on_case=_advancer(p, task))
    console.print_json(json.dumps(training.compare_rankers(rows)))


@eval_app.command("training-tables")
def training_tables(
    dev: Annotated[bool, typer.Option(help="Also the eval dev splits' table (model selection)")] = True,
) -> None:
    """Every training question's candidate sentences through the real pipeline (evals/training/tables.py)."""
    from evals.train import services_for_features
    from evals.training import tables

    services = services_for_features(reader=False)
    with Progress(TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as p:
        task = p.add_task("training questions", total=None)
        n = tables.write_rows(tables.question_rows(services, _advancer(p, task)), tables.TABLES_DIR / "questions.jsonl")
        console.print(f"{n} training and validation questions")
        if dev:
            task = p.add_task("eval dev questions", total=None)
            n = tables.write_rows(tables.dev_rows(services, _advancer(p, task)), tables.TABLES_DIR / "dev.jsonl")
            console.print(f"{n} eval dev questions")


@eval_app.command("feedback")
def feedback_candidates(
    feedback: Annotated[Path, typer.Option(help="A feedback export (GET /feedback) or the data dir's file")] = Path(
        ".data/feedback.jsonl"
    ),
    out: Annotated[Path, typer.Option(help="Where the rows to label go")] = Path("eval-out/feedback-candidates.jsonl"),
) -> None:
    """Readers' 👍/👎 as candidate training questions to label from the documents (evals/training/feedback.py)."""
    from evals.training.feedback import write_candidates

    n = write_candidates(feedback, out)
    console.print(f"{n} questions to label: {out}")


@contextmanager
def _fine_tuning_progress(model: str = "the reader") -> Iterator[Callable[[int, int, float], None]]:
    """A progress bar over a fine-tuning's steps, with the loss; yields the step callback."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as p:
        task = p.add_task(f"fine-tuning {model}", total=None)

        def step(done: int, total: int, loss: float) -> None:
            p.update(task, completed=done, total=total, description=f"fine-tuning {model} (loss {loss:.3f})")

        yield step


@eval_app.command("reader-curve")
def reader_curve() -> None:
    """The reader's learning curve: one pass over the training questions with checkpoints after 250, 500,
    1,000 and 2,000 and at the end, each measured on the validation documents and the eval dev splits
    (evals/training/reader_train.py; writes evals/training/learning_curve.jsonl). Needs
    `qa-service eval training-tables` first."""
    from evals.training.reader_fit import FitConfig
    from evals.training.reader_train import learning_curve

    with _fine_tuning_progress() as step:
        points = learning_curve(FitConfig(), on_step=step)
    for point in points:
        console.print_json(json.dumps({k: v for k, v in point.items() if k != "config"}))


@eval_app.command("train-judge")
def train_judge() -> None:
    """Fine-tune the claim judge on the training corpus's claim pairs (JudgeConfig's defaults), choose its
    threshold on the validation documents' pairs and write qa_service/answering/data/judge/ (`make train`)."""
    from evals.training.judge_train import JudgeConfig, train_and_save
    from qa_service.answering.judge import JUDGE_DIR

    with _fine_tuning_progress("the claim judge") as step:
        content = train_and_save(JudgeConfig(), JUDGE_DIR, step)
    console.print_json(json.dumps({k: content[k] for k in ("threshold", "validation")}))


@eval_app.command("train-reader")
def train_reader() -> None:
    """Fine-tune the reader on the training corpus with the shipped configuration (FitConfig's defaults) and
    write qa_service/answering/data/reader/ (`make train`; needs `qa-service eval training-tables` first)."""
    from evals.training.reader_fit import FitConfig
    from evals.training.reader_train import train_and_save
    from qa_service.answering.reader import READER_DIR

    with _fine_tuning_progress() as step:
        content = train_and_save(FitConfig(), READER_DIR, step)
    console.print_json(json.dumps({k: content[k] for k in ("figures", "claim_judge_validation", "validation_sample")}))
