"""The eval gate: the seed suite through /ask meets evals/thresholds.toml, and a broken retriever fails it."""

from __future__ import annotations

import dataclasses

from fastapi.testclient import TestClient

from evals.dataset import DATASETS_DIR, load_dataset
from evals.gate import gate_run, load_suites
from evals.harness import ensure_corpus, run_suite
from qa_service.api.app import create_app
from qa_service.domain import ScoredChunk
from qa_service.services import Services


def test_datasets_are_well_formed() -> None:
    for config in load_suites().values():
        cases = load_dataset(DATASETS_DIR / str(config["dataset"]))
        assert all(c.gold_answers and c.gold_evidence for c in cases if c.answerable)
    seed = load_dataset(DATASETS_DIR / "seed.jsonl")
    assert len(seed) >= 80 and sum(not c.answerable for c in seed) >= 20
    assert sum(c.category == "adversarial" for c in seed) >= 8


def test_seed_suite_meets_the_thresholds(seeded_services: Services) -> None:
    ensure_corpus(seeded_services, "seeds")
    with TestClient(create_app(seeded_services.settings, services=seeded_services)) as client:
        run = run_suite(
            suite="seed",
            dataset="seed.jsonl",
            client=client,
            services=seeded_services,
            modes=[seeded_services.settings.answer_mode],
            baselines=[],
        )
    print({k: round(v, 3) for k, v in run.systems[0].summary.items()})
    assert gate_run(run, load_suites()["seed"]) == []


class _BrokenRetriever:
    """A deliberately broken retriever: returns the chunks least related to the question."""

    def __init__(self, services: Services) -> None:
        self._retriever = services.retriever

    def retrieve(self, question: str, *, collection: str, top_k: int) -> list[ScoredChunk]:
        ranked = self._retriever.retrieve(question, collection=collection, top_k=50)
        return [ScoredChunk(s.chunk, 0.0) for s in reversed(ranked)][:top_k]

    def prevalence(self, words: set[str], *, collection: str) -> dict[str, float]:
        return self._retriever.prevalence(words, collection=collection)

    def term_shares(self, terms: set[str], *, collection: str) -> dict[str, float]:
        return self._retriever.term_shares(terms, collection=collection)


def test_a_broken_retriever_fails_the_gate(seeded_services: Services) -> None:
    ensure_corpus(seeded_services, "seeds")
    broken = dataclasses.replace(
        seeded_services, answerer=seeded_services.answerer.with_retriever(_BrokenRetriever(seeded_services))
    )
    with TestClient(create_app(broken.settings, services=broken)) as client:
        run = run_suite(
            suite="seed", dataset="seed.jsonl", client=client, services=broken, modes=["extractive"], baselines=[]
        )
    assert gate_run(run, load_suites()["seed"])


def test_generate_drafts_reviewable_cases(seeded_services: Services) -> None:
    from evals.dataset import EvalCase
    from evals.generate import draft_cases

    drafts = draft_cases(seeded_services, collection="default", n=10)
    assert len(drafts) == 10
    document = seeded_services.store.list_documents("default")[0]
    text = seeded_services.store.get_document("default", document.id).text
    for draft in drafts:
        case = EvalCase.model_validate(draft)
        assert case.collection == "default" and case.answerable
        assert case.gold_evidence[0] in text
        assert case.gold_answers[0] in case.gold_evidence[0]
        assert "___" in case.question  # no LLM configured: a cloze question for a person to rewrite


def test_answers_match_gold_phrases_whatever_their_markdown_emphasis() -> None:
    """A gold phrase copied from a Markdown source ("does _not_ include") matches the stored text, which has
    no emphasis marks; underscores that belong to a name still count."""
    from evals.metrics import normalize_answer

    assert normalize_answer("url.hostname does _not_ include the port") == normalize_answer(
        "url.hostname does not include the port [1]"
    )
    assert normalize_answer("a **bold** move") == normalize_answer("a bold move")
    assert normalize_answer("NODE_UNIQUE_ID") != normalize_answer("NODE UNIQUE ID")
    assert normalize_answer("__init__") != normalize_answer("init")
