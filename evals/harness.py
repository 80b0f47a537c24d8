"""Run eval suites: ingest each corpus, ask every case through /ask, score, compare with baselines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from evals.baselines import ask_dense_only, ask_langchain, langchain_rag_chain
from evals.corpora import collection_for, corpus_files
from evals.dataset import DATASETS_DIR, EvalCase, collection_of, load_dataset
from evals.metrics import CaseResult, Span, score_case, summarize
from qa_service.answering.question import analyze_question
from qa_service.services import Services

OURS = "ours"
DENSE_ONLY = "dense-only"
LANGCHAIN = "langchain-rag"
BASELINES = (DENSE_ONLY, LANGCHAIN)


class HTTPClient(Protocol):
    def post(self, url: str, *, json: Any) -> Any: ...
    def get(self, url: str, *, params: Any = None) -> Any: ...


@dataclass(slots=True)
class SystemRun:
    """One system (ours in a mode, or a baseline) over one suite."""

    name: str
    results: list[CaseResult]
    summary: dict[str, float]


@dataclass(slots=True)
class SuiteRun:
    suite: str
    dataset: str
    collection: str
    systems: list[SystemRun] = field(default_factory=list)

    def system(self, name: str) -> SystemRun | None:
        return next((s for s in self.systems if s.name == name), None)


def ensure_corpus(
    services: Services,
    corpus: str,
    on_file: Callable[[str], None] | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> str:
    """Ingest a named corpus into its eval collection (idempotent: unchanged files are skipped); ``on_bytes``
    reports progress in bytes of its files (``Ingestor.ingest_paths``)."""
    collection = collection_for(corpus)
    report = services.ingestor.ingest_paths(
        corpus_files(corpus),
        collection=collection,
        on_progress=(lambda r: on_file(r.source)) if on_file else None,
        on_bytes=on_bytes,
    )
    failed = [r for r in report.results if r.outcome == "failed"]
    if failed:
        raise RuntimeError(f"{len(failed)} files of corpus {corpus!r} failed to ingest, first: {failed[0].error}")
    return collection


def fetch_document_texts(client: HTTPClient, collection: str) -> dict[str, str]:
    texts: dict[str, str] = {}
    offset = 0
    while True:
        listing = client.get("/documents", params={"collection": collection, "offset": offset, "limit": 500})
        listing.raise_for_status()
        page = listing.json()
        for doc in page["items"]:
            if doc["state"] != "ready":
                continue
            response = client.get(f"/documents/{doc['id']}/text", params={"collection": collection})
            response.raise_for_status()
            texts[doc["id"]] = response.text
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return texts


def _ranked(services: Services | None, case: EvalCase, collection: str, dense: bool) -> list[Span] | None:
    if services is None or not case.answerable:
        return None
    focus = analyze_question(case.question).focus
    retriever = services.retriever
    hits = (retriever.retrieve_dense if dense else retriever.retrieve)(focus, collection=collection, top_k=10)
    return [(h.chunk.document_id, h.chunk.start, h.chunk.end) for h in hits]


def _ask_ours(client: HTTPClient, case: EvalCase, collection: str, mode: str) -> dict[str, Any]:
    response = client.post("/ask", json={"question": case.question, "collection": collection, "mode": mode})
    if response.status_code != 200:
        return {
            "answer": "",
            "refused": False,
            "citations": [],
            "error": response.json(),
            "status": response.status_code,
        }
    body: dict[str, Any] = response.json()
    return body


def run_suite(
    *,
    suite: str,
    dataset: str,
    client: HTTPClient,
    services: Services | None,
    modes: list[str],
    baselines: list[str],
    on_case: Callable[[str], None] | None = None,
) -> SuiteRun:
    """Score our pipeline in each mode, then the baselines, over one dataset.

    ``services`` is None when evaluating a remote server: retrieval metrics and baselines need the
    in-process components and are skipped.
    """
    cases = load_dataset(DATASETS_DIR / dataset)
    collection, _corpus = collection_of(cases)
    texts = fetch_document_texts(client, collection)
    run = SuiteRun(suite, dataset, collection)

    def score_all(name: str, ask: Callable[[EvalCase], dict[str, Any]], dense: bool) -> None:
        if services is not None:
            services.embedder.clear_cache()  # every system starts cold, so latencies compare fairly
        results = []
        for case in cases:
            results.append(score_case(case, ask(case), texts, _ranked(services, case, collection, dense)))
            if on_case:
                on_case(name)
        run.systems.append(SystemRun(name, results, summarize(results)))

    for mode in modes:
        score_all(f"{OURS}/{mode}", lambda c, m=mode: _ask_ours(client, c, collection, m), dense=False)  # type: ignore[misc]
    if services is None:
        return run
    if DENSE_ONLY in baselines:
        default_mode = modes[0]
        score_all(
            DENSE_ONLY,
            lambda c: ask_dense_only(services, c.question, collection=collection, mode=default_mode),
            dense=True,
        )
    chain = langchain_rag_chain(services, collection) if LANGCHAIN in baselines else None
    if chain is not None:
        score_all(LANGCHAIN, lambda c: ask_langchain(chain, c.question), dense=True)
    return run
