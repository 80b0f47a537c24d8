"""Two API processes (real ``qa-service serve``) sharing one Chroma server see each other's writes: an ingest
by the CLI (a third process) and a delete by a fourth client reach both, BM25 index included."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SEEDS
from tests.servers import VENV_BIN, free_port, running

DRUZE = "How many Druze civilians were killed in Sweida?"
QUOKKA = "On which island is the quokka found?"


@pytest.fixture(scope="module")
def shared_env(chroma_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {
        "QA_CHROMA__URL": chroma_server_url,
        "QA_COLLECTION": f"shared-{uuid.uuid4().hex[:8]}",  # apart from other tests on the session's server
        "QA_DATA_DIR": str(tmp_path_factory.mktemp("no-local-data")),
        "QA_LLM__BACKEND": "none",
    }


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(VENV_BIN / "qa-service"), *args], env={**os.environ, **env}, check=True, capture_output=True)


@pytest.fixture(scope="module")
def api_urls(shared_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    _cli(shared_env, "ingest", str(SEEDS))  # before start-up, so both processes warm up on it
    logs = tmp_path_factory.mktemp("api-logs")
    with ExitStack() as stack:
        urls = []
        for name in ("a", "b"):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            command = [str(VENV_BIN / "qa-service"), "serve", "--host", "127.0.0.1", "--port", str(port)]
            stack.enter_context(running(command, ready_url=f"{url}/readyz", log=logs / f"{name}.log", env=shared_env))
            urls.append(url)
        yield urls


def _ask(url: str, question: str) -> dict[str, Any]:
    response = httpx.post(f"{url}/ask", json={"question": question, "mode": "extractive"}, timeout=60)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_both_processes_answer_from_the_shared_store(api_urls: list[str]) -> None:
    for url in api_urls:
        body = _ask(url, DRUZE)
        assert not body["refused"] and "215" in body["answer"]


def test_an_ingest_and_a_delete_reach_both_processes(
    api_urls: list[str], shared_env: dict[str, str], tmp_path: Path
) -> None:
    for url in api_urls:
        assert _ask(url, QUOKKA)["refused"]
    note = tmp_path / "quokka.txt"
    note.write_text(
        "The quokka is a small marsupial. The quokka is found on Rottnest Island, off the coast of Western "
        "Australia, where the quokka population numbers about ten thousand animals.",
        encoding="utf-8",
    )
    _cli(shared_env, "ingest", str(note))
    for url in api_urls:
        body = _ask(url, QUOKKA)
        assert not body["refused"] and "Rottnest Island" in body["answer"]
        assert body["citations"][0]["source"].endswith("quokka.txt")

    # The delete goes through the first API process; the second must stop finding the note too.
    collection = shared_env["QA_COLLECTION"]
    listing = httpx.get(f"{api_urls[0]}/documents", params={"collection": collection}, timeout=30).json()
    [note_id] = [d["id"] for d in listing["items"] if d["source"].endswith("quokka.txt")]
    deleted = httpx.delete(f"{api_urls[0]}/documents/{note_id}", params={"collection": collection}, timeout=30)
    assert deleted.status_code == 204
    for url in api_urls:
        assert _ask(url, QUOKKA)["refused"]
        assert "215" in _ask(url, DRUZE)["answer"]  # the other document is untouched
