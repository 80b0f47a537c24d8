"""Prompt templates are files under ``prompts/``, rendered strictly: missing or extra variables fail."""

from __future__ import annotations

import string
from pathlib import Path

from qa_service.errors import ConfigurationError


class PromptTemplate:
    """A ``string.Template`` file (``$name`` placeholders) with strict rendering."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise ConfigurationError(f"prompt template not found: {path}")
        self.path = path
        self._template = string.Template(path.read_text(encoding="utf-8"))
        self.variables = frozenset(self._template.get_identifiers())

    def render(self, **values: str) -> str:
        given = frozenset(values)
        if given != self.variables:
            missing, unexpected = sorted(self.variables - given), sorted(given - self.variables)
            raise ConfigurationError(f"{self.path.name}: missing {missing}, unexpected {unexpected}")
        return self._template.substitute(values)


def escape_delimiters(text: str) -> str:
    """Untrusted text cannot open or close our ``<evidence>``/``<question>`` delimiters, nor look like them."""
    from qa_service.answering.untrusted import neutralise

    return neutralise(text)
