"""docker-compose.yml is valid and in step with the settings: `docker-compose config` (Debian's docker-compose,
no engine needed) accepts it, and every QA_ variable it hands the API is a real, valid setting."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from qa_service.settings import environment_names, load_settings
from tests.conftest import ROOT


def compose_config(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The file as docker-compose resolves it (interpolated, anchors merged); fails if it is invalid."""
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is missing: `make system-deps` (apt-get install docker-compose)"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    result = subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), *args, "config"],
        env={**clean, **(env or {})}, capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return dict(yaml.safe_load(result.stdout))


def _qa_environment(service: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in service["environment"].items() if str(k).startswith("QA_")}


def _load(environment: dict[str, str]) -> Any:
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("QA_")]:
            patch.delenv(name)
        for name, value in environment.items():
            patch.setenv(name, value)
        return load_settings()


@pytest.mark.parametrize("service", ["api", "ingest"])
def test_compose_environment_is_valid_settings(service: str) -> None:
    environment = _qa_environment(compose_config()["services"][service])
    unknown = set(environment) - environment_names()
    assert not unknown, f"docker-compose.yml sets variables Settings does not read: {sorted(unknown)}"
    settings = _load(environment)
    assert settings.chroma.url == "http://chroma:8000"  # the API replicas share the chroma service
    assert settings.llm.backend == "embedded" and settings.answer_mode == "extractive"
    assert settings.auth.allow_open_bind  # the replicas bind 0.0.0.0 in their containers, behind lb on loopback


def test_ollama_profile_wires_the_ollama_backend() -> None:
    config = compose_config("--profile", "ollama", env={"QA_LLM__BACKEND": "ollama"})
    assert config["services"]["ollama"]["profiles"] == ["ollama"]  # started only with --profile ollama
    settings = _load(_qa_environment(config["services"]["api"]))
    assert settings.llm.backend == "ollama" and settings.llm.base_url == "http://ollama:11434"
    assert settings.llm.model == "smollm2:135m"


def test_replicas_sit_behind_the_load_balancer() -> None:
    services = compose_config()["services"]
    assert "ports" not in services["api"], "a host port on api would stop `--scale api=N`"
    assert [str(p) for p in services["lb"]["ports"]] == ["127.0.0.1:8000:8080/tcp"]  # loopback only
    assert "server api:8000;" in (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert {"chroma", "api", "lb"} <= {n for n, s in services.items() if "healthcheck" in s}


def test_environment_names_cover_nested_settings() -> None:
    names = environment_names()
    assert {"QA_DATA_DIR", "QA_LLM__BACKEND", "QA_CHROMA__URL", "QA_CHROMA__TOKEN", "QA_LLM__BASE_URL"} <= names
