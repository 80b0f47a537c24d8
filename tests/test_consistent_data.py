"""Consistent data across ingestion paths and list responses; the CLI asking a running server; /v1
follow-ups reporting their rewritten question (also when streamed). Real store, model and HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from typer.testing import CliRunner

from qa_service.api.app import create_app
from qa_service.cli import app as cli
from qa_service.embeddings import SentenceTransformerEmbedder
from qa_service.services import Services, build_services
from tests.conftest import SEEDS, make_settings
from tests.servers import serving_in_thread

QUESTION = "How many Druze civilians were killed in Sweida?"


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[tuple[str, Services]]:
    root = tmp_path_factory.mktemp("consistent")
    for team, text in (("alpha", "The alpha office opens at 08:00."), ("beta", "The beta office opens at 09:30.")):
        (root / "docs" / team).mkdir(parents=True)
        (root / "docs" / team / "hours.txt").write_text(text + "\n", encoding="utf-8")
    settings = make_settings(root / "data", llm={"backend": "none"})
    services = build_services(settings, embedder=embedder)
    report = services.ingestor.ingest_paths([SEEDS, root / "docs"], collection="default")
    assert report.count("added") == 3
    with serving_in_thread(create_app(settings, services=services)) as url:
        yield url, services


def test_source_is_the_file_name_and_the_folder_path_is_kept(served: tuple[str, Services], tmp_path: Path) -> None:
    url, services = served
    upload = httpx.post(f"{url}/documents", files=[("files", ("hours.txt", b"The gamma office opens at 10:00.\n"))])
    assert upload.status_code == 202
    services.jobs.wait_idle()
    listed = httpx.get(f"{url}/documents").json()["items"]
    hours = sorted((d["source"], d["path"]) for d in listed if d["source"] == "hours.txt")
    assert len(hours) == 3, listed  # two folder files and the upload: same name, none replaced another
    paths = sorted(path for _, path in hours)
    assert paths[0] == "" and paths[1].endswith("alpha/hours.txt") and paths[2].endswith("beta/hours.txt")
    assert all("/" not in d["source"] for d in listed)  # CLI ingests and uploads alike
    answer = httpx.post(f"{url}/ask", json={"question": QUESTION}).json()
    assert answer["citations"] and all("/" not in c["source"] for c in answer["citations"])
    again = services.ingestor.ingest_paths([SEEDS], collection="default")
    assert again.count("unchanged") == 1  # known by its path: not added a second time


def test_every_list_response_says_items(served: tuple[str, Services]) -> None:
    url, _ = served
    upload = httpx.post(f"{url}/documents", files=[("files", ("list-key.txt", b"A file to list.\n"))]).json()
    assert set(upload) == {"items"}
    assert "items" in httpx.get(f"{url}/documents").json()
    assert set(httpx.get(f"{url}/collections").json()) == {"items"}
    assert "items" in httpx.post(f"{url}/retrieve", json={"query": QUESTION}).json()


def test_cli_ask_uses_the_running_server(
    served: tuple[str, Services], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = served
    unused = tmp_path / "never-created"
    monkeypatch.setenv("QA_DATA_DIR", str(unused))  # a local ask would open (and create) this store
    monkeypatch.setenv("QA_URL", url)
    result = CliRunner().invoke(cli, ["ask", QUESTION])
    assert result.exit_code == 0, result.output
    assert f"asking the server at {url}" in result.output and "215" in result.output and "[1]" in result.output
    assert not unused.exists()  # no store opened, no model loaded in the CLI process
    scoped = CliRunner().invoke(cli, ["ask", QUESTION, "--tag", "no-such-tag"])  # the scope reaches the server
    assert scoped.exit_code == 1 and "no ready document matches" in scoped.output


def test_v1_follow_up_reports_its_rewritten_question_streaming_or_not(served: tuple[str, Services]) -> None:
    url, _ = served
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=60)
    first = client.chat.completions.create(
        model="default", messages=[{"role": "user", "content": "Who is Putin's envoy in Syria?"}]
    )
    messages: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": "Who is Putin's envoy in Syria?"},
        {"role": "assistant", "content": first.choices[0].message.content or ""},
        {"role": "user", "content": "Which news agency did he talk to?"},
    ]
    expected = "Which news agency did Alexander Lavrentyev talk to?"
    answer = client.chat.completions.create(model="default", messages=messages)
    assert (answer.model_extra or {})["qa"]["rewritten_question"] == expected
    chunks = list(client.chat.completions.create(model="default", messages=messages, stream=True))
    assert (chunks[-1].model_extra or {})["qa"]["rewritten_question"] == expected
