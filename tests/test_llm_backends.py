"""The LLM backends. The remote ones against a real ``python -m llama_cpp.server`` serving the packaged
SmolLM2 on loopback: plain and streamed replies, timeouts, a server that is down, retries with backoff, and
the same answer verification as the embedded backend."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from qa_service.api.app import create_app
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.errors import ConfigurationError, LLMUnavailableError
from qa_service.llm import build_llm
from qa_service.llm.ollama import OllamaLLM
from qa_service.llm.openai_compat import OpenAICompatibleLLM
from qa_service.services import build_services
from qa_service.settings import LLMSettings
from tests.conftest import check_llm_answers, make_settings
from tests.servers import free_port, llama_server_command, running, stop

pytestmark = pytest.mark.llm
QUESTION = "How many Druze civilians were killed in Sweida?"


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (…/v1) of a real llama.cpp OpenAI-compatible server."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with running(llama_server_command(port), ready_url=f"http://127.0.0.1:{port}/v1/models", log=log):
        yield f"http://127.0.0.1:{port}/v1"


def _openai(base_url: str, **overrides: object) -> OpenAICompatibleLLM:
    settings = LLMSettings(backend="openai", base_url=base_url, model="smollm2", **overrides)
    llm = build_llm(settings)
    assert isinstance(llm, OpenAICompatibleLLM)
    return llm


def test_chat_and_stream_give_the_same_reply(llama_server: str) -> None:
    llm = _openai(llama_server)
    reply = llm.chat("You are terse.", "Name a colour.", max_tokens=12)
    pieces = list(llm.stream("You are terse.", "Name a colour.", max_tokens=12))
    assert reply.strip()
    assert len(pieces) > 1  # really streamed, token by token
    assert "".join(pieces) == reply  # temperature 0: the same tokens either way


def test_embedded_backend_streams_the_same_reply_too() -> None:
    llm = build_llm(LLMSettings(backend="embedded"))
    assert llm is not None
    reply = llm.chat("You are terse.", "Name a colour.", max_tokens=12)
    pieces = list(llm.stream("You are terse.", "Name a colour.", max_tokens=12))
    assert len(pieces) > 1 and "".join(pieces) == reply


def test_timeout_is_an_unavailable_error_after_the_retries() -> None:
    """A server that accepts the connection and never answers (a listening socket nobody reads): the read
    times out. Not done against the llama.cpp server: it keeps generating for a client that gave up, and
    llama_cpp.server 0.3.36 was seen to stop answering after such abandoned requests."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        llm = _openai(f"http://127.0.0.1:{port}/v1", timeout_s=0.5, max_retries=1, retry_backoff_s=0.0)
        started = time.perf_counter()
        with pytest.raises(LLMUnavailableError, match=r"after 2 attempts.*Timeout"):
            llm.chat("s", "u", max_tokens=8)
    assert 1.0 <= time.perf_counter() - started < 10  # two attempts of 0.5 s each, then a clear error


def test_server_down_is_a_clear_unavailable_error() -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"
    started = time.perf_counter()
    with pytest.raises(LLMUnavailableError, match=r"did not answer after 3 attempts.*Connection") as caught:
        _openai(down, max_retries=2, retry_backoff_s=0.1).chat("s", "u", max_tokens=8)
    assert caught.value.code == "llm_unavailable"
    assert time.perf_counter() - started >= 0.1 + 0.2  # it waited between attempts (backoff 0.1 s, 0.2 s)


def test_unknown_route_is_not_retried(llama_server: str) -> None:
    llm = _openai(llama_server.removesuffix("/v1") + "/nowhere", max_retries=3, retry_backoff_s=5.0)
    started = time.perf_counter()
    with pytest.raises(LLMUnavailableError, match=r"refused the request.*404"):
        llm.chat("s", "u", max_tokens=8)
    assert time.perf_counter() - started < 5.0  # a 4xx fails at once instead of sleeping through backoff


def test_retries_with_backoff_ride_out_a_server_that_is_still_starting(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The first attempts hit a closed port (connection refused); the server comes up; a retry succeeds."""
    port = free_port()
    llm = _openai(f"http://127.0.0.1:{port}/v1", max_retries=8, retry_backoff_s=0.5)
    holder: list[subprocess.Popen[bytes]] = []

    def start_later() -> None:
        time.sleep(1.0)
        with (tmp_path / "late.log").open("wb") as log:
            holder.append(subprocess.Popen(llama_server_command(port), stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True))  # fmt: skip

    starter = threading.Thread(target=start_later)
    starter.start()
    try:
        reply = llm.chat("You are terse.", "Say hello.", max_tokens=8)
    finally:
        starter.join()
        for process in holder:
            stop(process)
    assert reply.strip()
    retries = [r.getMessage() for r in caplog.records if r.name == "qa_service.llm"]
    assert retries and all("Connection" in m for m in retries)  # it did fail first, and recovered


def test_generated_answers_go_through_the_same_verification(
    llama_server: str, seeded_dir: Path, embedder: SentenceTransformerEmbedder
) -> None:
    llm = {"backend": "openai", "base_url": llama_server, "model": "smollm2"}
    answerer = build_services(make_settings(seeded_dir, llm=llm), embedder=embedder).answerer
    check_llm_answers(answerer, QUESTION)


@pytest.mark.parametrize("backend", ["openai", "ollama"])
def test_a_down_llm_is_a_503_and_the_service_stays_up(
    backend: str, seeded_dir: Path, embedder: SentenceTransformerEmbedder
) -> None:
    down = f"http://127.0.0.1:{free_port()}" + ("/v1" if backend == "openai" else "")
    llm = {"backend": backend, "base_url": down, "model": "m", "max_retries": 1, "retry_backoff_s": 0.0}
    services = build_services(make_settings(seeded_dir, llm=llm), embedder=embedder)
    with TestClient(create_app(services.settings, services=services)) as client:
        response = client.post("/ask", json={"question": QUESTION, "mode": "generative"})
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "llm_unavailable"
        assert "did not answer after 2 attempts" in response.json()["error"]["message"]
        auto = client.post("/ask", json={"question": QUESTION, "mode": "auto"}).json()
        assert auto["mode"] == "extractive" and "unavailable" in auto["fallback_reason"]
        assert client.get("/healthz").status_code == 200
        assert client.post("/ask", json={"question": QUESTION, "mode": "extractive"}).status_code == 200


def test_ollama_streams_and_fails_like_the_others() -> None:
    llm = build_llm(LLMSettings(backend="ollama", model="m", base_url=f"http://127.0.0.1:{free_port()}", max_retries=0))
    assert isinstance(llm, OllamaLLM)
    with pytest.raises(LLMUnavailableError, match=r"Ollama at .* did not answer after 1 attempt"):
        list(llm.stream("s", "u", max_tokens=8))


@pytest.mark.parametrize("backend", ["openai", "ollama"])
def test_remote_backends_need_a_model_name(backend: str) -> None:
    with pytest.raises(ConfigurationError, match="QA_LLM__MODEL"):
        build_llm(LLMSettings(backend=backend))
