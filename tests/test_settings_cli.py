"""Settings fail fast with clear messages; the CLI ingests and answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa_service.cli import app
from qa_service.errors import ConfigurationError
from qa_service.settings import load_settings
from tests.conftest import SEEDS


def test_defaults_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QA_ANSWER_MODE", raising=False)
    settings = load_settings()
    assert settings.answer_mode == "extractive"
    assert Path(settings.embedding.resolved_model_path()).is_dir()
    assert settings.llm.resolved_model_path().endswith(".gguf")


@pytest.mark.parametrize(
    ("env", "value", "fragment"),
    [
        ("QA_ANSWER_MODE", "psychic", "QA_ANSWER_MODE"),
        ("QA_RETRIEVAL__TOP_K", "0", "QA_RETRIEVAL__TOP_K"),
        ("QA_CHUNKING__CHUNK_OVERLAP", "5000", "chunk_overlap must be smaller"),
        ("QA_LLM__BACKEND", "gpt9", "QA_LLM__BACKEND"),
        ("QA_COLLECTION", "../etc", "QA_COLLECTION"),
    ],
)
def test_wrong_values_fail_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigurationError, match="invalid settings") as info:
        load_settings()
    assert fragment in info.value.message


def test_cli_ingest_then_ask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("QA_LLM__BACKEND", "none")
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", str(SEEDS)])
    assert ingested.exit_code == 0, ingested.output
    assert "1 added" in ingested.output
    again = runner.invoke(app, ["ingest", str(SEEDS)])
    assert "1 unchanged" in again.output
    asked = runner.invoke(app, ["ask", "How many Druze civilians were killed in Sweida?"])
    assert asked.exit_code == 0, asked.output
    assert "215" in asked.output and "[1]" in asked.output


def test_cli_reports_a_wrong_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_ANSWER_MODE", "psychic")
    result = CliRunner().invoke(app, ["ask", "anything"])
    assert result.exit_code == 2
    assert "QA_ANSWER_MODE" in result.output
