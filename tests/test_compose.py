"""docker-compose.yml stays in step with the settings: every QA_ variable it sets is a real, valid setting."""

from __future__ import annotations

import pytest
import yaml

from qa_service.settings import environment_names, load_settings
from tests.conftest import ROOT


def test_compose_environment_is_valid_settings() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    environment = {str(k): str(v) for k, v in compose["services"]["api"]["environment"].items()}
    unknown = set(environment) - environment_names()
    assert not unknown, f"docker-compose.yml sets variables Settings does not read: {sorted(unknown)}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        settings = load_settings()
    assert str(settings.data_dir) == environment["QA_DATA_DIR"]
    assert settings.answer_mode == environment["QA_ANSWER_MODE"]


def test_environment_names_cover_nested_settings() -> None:
    names = environment_names()
    assert {"QA_DATA_DIR", "QA_ANSWER_MODE", "QA_LLM__BACKEND", "QA_RETRIEVAL__FUSION"} <= names
