"""Turn a follow-up ("and who contradicted him?") into a standalone question using the conversation.

Deterministic: a pronoun or a bare "and ..." is resolved to the most recent name the conversation
mentioned (the previous answer first, then the previous question). The LLM is not used here: a small
model rewrites unreliably, and a wrong rewrite silently answers a different question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from qa_service.answering.lexicon import PLACE_WORDS
from qa_service.domain import CITATION_MARKER

_PRONOUN = re.compile(r"\b(he|him|his|she|her|hers|they|them|their|it|its)\b", re.I)
_LEAD = re.compile(r"^\s*(and|so|but|also|then)\b[\s,]*", re.I)
_NAME = re.compile(r"\b([A-Z][\w’'-]+(?:\s+(?:al-|bin\s+)?[A-Z][\w’'-]+)+)")
_TITLES = re.compile(r"^(The|A|An|On|In|At|Last|This|That|President|Prime|Ambassador|Minister)\s+")


class Turn(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def content(self) -> str: ...


def _names(text: str) -> list[str]:
    """Multi-word capitalised names of people or groups in order of appearance (titles dropped, places
    such as "Golan Heights" skipped: a pronoun like "him" or "they" rarely points at a place)."""
    found = []
    for match in _NAME.finditer(text):
        name = _TITLES.sub("", match.group(1)).strip()
        if " " in name and name.split()[-1].lower() not in PLACE_WORDS:
            found.append(name)
    return found


def rewrite_followup(question: str, history: Sequence[Turn]) -> str | None:
    """The standalone question, or None when the question already stands alone."""
    if not history or not _PRONOUN.search(question):
        return None
    previous = [t.content for t in reversed(history)]
    for text in previous:
        names = _names(CITATION_MARKER.sub("", text))
        if names:
            entity = names[0]
            break
    else:
        return None
    pronoun = _PRONOUN.search(question)
    assert pronoun is not None
    replacement = entity + ("'s" if pronoun.group(1).lower() in ("his", "her", "its", "their") else "")
    standalone = question[: pronoun.start()] + replacement + question[pronoun.end() :]
    standalone = _LEAD.sub("", standalone)
    return standalone[:1].upper() + standalone[1:]
