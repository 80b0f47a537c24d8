"""Find a gold string in a document's text up to whitespace (and Unicode compatibility forms).

Gold evidence is copied from the document as a person reads it; the stored text may break those words
across lines differently (a PDF's line breaks, a reflowed paragraph) or spell a ligature as one
character. Matching is done on a normalised copy whose every character maps back to a source offset,
so the span found is exact in the stored text. Last, Markdown's marks (``[link][]``, ``_emphasis_``,
backticks, asterisks) are ignored too: evidence copied from a Markdown file's source still finds the
passage once the loader renders the marks away. And last of all one or two digits glued to the end of a
word are (a PDF's footnote mark, "limited³" read as "limited3", which the PDF loader now drops). Both
sides lose them, so in this last pass "fun1" and "fun2" look alike; the passes before it keep digits and
are tried first.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from collections.abc import Callable, Sequence
from functools import lru_cache

_QUOTES = str.maketrans("’‘“”", "''\"\"")


_MARKS = frozenset("[]*_`")
_GLUED_DIGITS = re.compile(r"(?<=[^\W\d_])\d{1,2}(?![^\W_])")  # "limited3", not "4095" or "x86_64"
MODES = (0, 1, 2)  # whitespace and NFKC only; and Markdown marks; and digits glued to a word's end


def _normalise(text: str, *, marks: int = 0) -> tuple[str, list[int]]:
    """(normalised text, source offset of each of its characters); runs of whitespace become one space,
    from mode 1 Markdown mark characters are dropped, in mode 2 footnote-like digits too."""
    out: list[str] = []
    origin: list[int] = []
    glued = {i for m in _GLUED_DIGITS.finditer(text) for i in range(*m.span())} if marks == 2 else set()
    for i, ch in enumerate(text):
        if (marks and ch in _MARKS) or i in glued:
            continue
        if ch.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                origin.append(i)
            continue
        for piece in unicodedata.normalize("NFKC", ch).translate(_QUOTES):
            out.append(piece)
            origin.append(i)
    return "".join(out), origin


@lru_cache(maxsize=1024)  # every document of the largest corpus (349) in each mode: a scan never evicts
def _normalised_document(text: str, marks: int) -> tuple[str, array[int]]:
    normalised, origin = _normalise(text, marks=marks)
    return normalised, array("I", origin)  # 4 bytes an offset, not a tuple of int objects


def found_in_any(texts: Sequence[str]) -> Callable[[str], bool]:
    """A test of whether a needle is in any of ``texts`` as ``find_span`` would find it; each text is
    normalised at most once per mode (checking a dataset against a whole corpus, not one document)."""
    normalised: dict[int, list[str]] = {}

    def found(needle: str) -> bool:
        if any(needle in text for text in texts):
            return True
        for marks in MODES:
            probe = " ".join(_normalise(needle, marks=marks)[0].split())
            if not probe:
                return False
            if marks not in normalised:
                normalised[marks] = [_normalise(text, marks=marks)[0] for text in texts]
            if any(probe in haystack for haystack in normalised[marks]):
                return True
        return False

    return found


def find_span(text: str, needle: str) -> tuple[int, int] | None:
    """(start, end) of ``needle`` in ``text``, ignoring differences of whitespace and NFKC form."""
    exact = text.find(needle)
    if exact >= 0:
        return exact, exact + len(needle)
    for marks in MODES:
        probe = " ".join(_normalise(needle, marks=marks)[0].split())
        if not probe:
            return None
        haystack, origin = _normalised_document(text, marks)
        at = haystack.find(probe)
        if at >= 0:
            return origin[at], origin[at + len(probe) - 1] + 1
    return None
