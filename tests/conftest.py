"""Shared fixtures: one real embedding model, real embedded Chroma stores in temp dirs, real HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa_service.api.app import create_app
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.services import Services, build_services
from qa_service.settings import Settings, packaged_embedding_model_path

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


def copy_seed(to: Path) -> Path:
    to.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(SEED_FILE, to / SEED_FILE.name))


@pytest.fixture(scope="session")
def chroma_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (``chroma run``) on a free 127.0.0.1 port, shared by the session."""
    from tests.servers import chroma_server

    with chroma_server(tmp_path_factory.mktemp("chroma-server") / "data") as url:
        yield url
