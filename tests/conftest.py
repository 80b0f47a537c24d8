"""Shared fixtures: one real embedding model, real embedded Chroma stores in temp dirs, real HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from qa_service.answering.answerer import Answerer
from qa_service.api.app import create_app
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.services import Services, build_services
from qa_service.settings import AnswerMode, Settings, packaged_embedding_model_path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_FILE = next(SEEDS.glob("*.txt"))


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(packaged_embedding_model_path())


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    return Settings(data_dir=data_dir, **overrides)  # type: ignore[arg-type]


@pytest.fixture()
def fresh_services(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Services:
    """Services over an empty store in a temp dir (no LLM)."""
    return build_services(make_settings(tmp_path, llm={"backend": "none"}), embedder=embedder)


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Path:
    """A data dir holding the seed corpus, ingested once for the session."""
    data_dir = tmp_path_factory.mktemp("seeded")
    services = build_services(make_settings(data_dir, llm={"backend": "none"}), embedder=embedder)
    report = services.ingestor.ingest_paths([SEEDS], collection="default")
    assert report.count("added") == 1
    return data_dir


@pytest.fixture(scope="session")
def seeded_services(seeded_dir: Path, embedder: SentenceTransformerEmbedder) -> Services:
    return build_services(make_settings(seeded_dir, llm={"backend": "none"}), embedder=embedder)


@pytest.fixture(scope="session")
def client(seeded_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(seeded_services.settings, services=seeded_services)) as test_client:
        yield test_client


def ask_about(services: Services, folder: Path, document: tuple[str, str], question: str) -> Any:
    """Ingest one document (file name, text) into a fresh collection and ask it one question, extractively."""
    name, text = document
    (folder / name).write_text(text, encoding="utf-8")
    services.ingestor.ingest_paths([folder / name], collection="default")
    return services.answerer.ask(question, collection="default", top_k=5, mode="extractive")


def copy_seed(to: Path) -> Path:
    to.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(SEED_FILE, to / SEED_FILE.name))


WRITER_KEY, READER_KEY, TEAM_KEY = "qa_test-writer-key", "qa_test-reader-key", "qa_test-team-a-key"


def auth_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings with three keys: a writer, a reader, and a reader restricted to collection team-a."""
    from qa_service.security import key_entry

    keys = ",".join(
        [
            key_entry("writer", "writer", WRITER_KEY),
            key_entry("reader", "reader", READER_KEY),
            key_entry("team-a", "reader", TEAM_KEY, ["team-a"]),
        ]
    )
    overrides.setdefault("llm", {"backend": "none"})
    return make_settings(data_dir, auth={"keys": keys}, **overrides)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def wait_for_states(
    client: TestClient, status_urls: list[str], headers: dict[str, str], timeout: float = 120
) -> list[dict[str, Any]]:
    """Poll documents until each is ready or failed; returns their final records."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        records = [client.get(url, headers=headers).json() for url in status_urls]
        if all(r.get("state") in ("ready", "failed") for r in records):
            return records
        if time.monotonic() > deadline:
            raise AssertionError(f"documents still in progress after {timeout}s: {records}")
        time.sleep(0.1)


@pytest.fixture()
def secured(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Iterator[TestClient]:
    """An app over an empty store with API keys configured (no LLM)."""
    settings = auth_settings(tmp_path)
    with TestClient(create_app(settings, services=build_services(settings, embedder=embedder))) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def chroma_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (``chroma run``) on a free 127.0.0.1 port, shared by the session."""
    from tests.servers import chroma_server

    with chroma_server(tmp_path_factory.mktemp("chroma-server") / "data") as url:
        yield url


def check_llm_answers(answerer: Answerer, question: str) -> None:
    """Generative and auto mode over a real model: the model ran, and only verified text reaches the answer
    (generative answers that fail verification are refusals; auto falls back to the extractive answer)."""
    modes: tuple[AnswerMode, ...] = ("generative", "auto")
    for mode in modes:
        answer = answerer.ask(question, collection="default", top_k=6, mode=mode)
        assert answer.llm_output  # the model really ran
        if answer.mode == "generative" and not answer.refused:
            assert "215" in answer.answer and answer.citations  # passed verification
        elif mode == "auto":
            assert answer.mode == "extractive" and "215" in answer.answer and answer.fallback_reason
        else:
            assert answer.refused and answer.citations == []
