"""Find a gold string in a document's text up to whitespace (and Unicode compatibility forms).

Gold evidence is copied from the document as a person reads it; the stored text may break those words
across lines differently (a PDF's line breaks, a reflowed paragraph) or spell a ligature as one
character. Matching is done on a normalised copy whose every character maps back to a source offset,
so the span found is exact in the stored text.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_QUOTES = str.maketrans("’‘“”", "''\"\"")


def _normalise(text: str) -> tuple[str, list[int]]:
    """(normalised text, source offset of each of its characters); runs of whitespace become one space."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                origin.append(i)
            continue
        for piece in unicodedata.normalize("NFKC", ch).translate(_QUOTES):
            out.append(piece)
            origin.append(i)
    return "".join(out), origin


@lru_cache(maxsize=64)
def _normalised_document(text: str) -> tuple[str, tuple[int, ...]]:
    normalised, origin = _normalise(text)
    return normalised, tuple(origin)


def find_span(text: str, needle: str) -> tuple[int, int] | None:
    """(start, end) of ``needle`` in ``text``, ignoring differences of whitespace and NFKC form."""
    exact = text.find(needle)
    if exact >= 0:
        return exact, exact + len(needle)
    probe = _normalise(needle)[0].strip()
    if not probe:
        return None
    haystack, origin = _normalised_document(text)
    at = haystack.find(probe)
    if at < 0:
        return None
    return origin[at], origin[at + len(probe) - 1] + 1
