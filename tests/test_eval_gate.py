"""The seed eval suite through /ask in the default mode, gated by evals/thresholds.toml."""

from __future__ import annotations

from fastapi.testclient import TestClient

from evals.dataset import DATASETS_DIR, load_dataset
from evals.gate import gate_failures, load_thresholds
from evals.runner import run_cases
from qa_service.domain import Chunk, ScoredChunk
from qa_service.services import Services


def test_dataset_is_well_formed() -> None:
    cases = load_dataset(DATASETS_DIR / "seed.jsonl")
    answerable = [c for c in cases if c.answerable]
    assert len(cases) >= 80 and len(cases) - len(answerable) >= 20
    assert all(c.gold_answers and c.gold_evidence for c in answerable)


def test_seed_suite_meets_the_thresholds(client: TestClient, seeded_services: Services) -> None:
    thresholds = load_thresholds("seed")
    cases = load_dataset(DATASETS_DIR / thresholds["dataset"])
    _, summary = run_cases(client, cases, mode=seeded_services.settings.answer_mode)
    print({k: round(v, 3) for k, v in summary.items()})
    assert gate_failures(summary, thresholds) == []


class _ShuffledRetriever:
    """A deliberately broken retriever: returns the chunks least related to the question."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def retrieve(self, question: str, *, collection: str, top_k: int) -> list[ScoredChunk]:
        real = self._services.retriever.retrieve(question, collection=collection, top_k=50)
        worst: list[Chunk] = [s.chunk for s in reversed(real)][:top_k]
        return [ScoredChunk(c, 0.0) for c in worst]


def test_a_broken_retriever_fails_the_gate(client: TestClient, seeded_services: Services) -> None:
    answerer = seeded_services.answerer
    real = answerer._retriever
    answerer._retriever = _ShuffledRetriever(seeded_services)  # type: ignore[assignment]
    try:
        cases = load_dataset(DATASETS_DIR / "seed.jsonl")
        _, summary = run_cases(client, cases, mode="extractive")
    finally:
        answerer._retriever = real
    assert gate_failures(summary, load_thresholds("seed"))
