"""Turn a follow-up into a standalone question using the conversation's previous question.

Deterministic, and it only ever carries words over from the conversation: a small LLM rewrites unreliably,
and a wrong rewrite silently answers a different question. Three shapes are understood:
- a swap, "What about X?" / "How about X?" / "And X?" / "And on Windows?": the previous question with X in
  the place of the thing X stands for (same kind of token: a path for a path, an option for an option, a
  name for a name; the same preposition's object; the name before "option", "module", "directory" ...);
  when no such place is found, X is asked about in the previous question's terms;
- a reference, "And what happens if it is set to 0?", "And its default?", "How can I change it?": the
  pronoun is replaced by what the previous question was about (the thing it asks for, a code-like name,
  a person's or group's name, the previous answer's name for a person);
- anything else stands alone (None).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from qa_service.answering.lexicon import PLACE_WORDS
from qa_service.domain import CITATION_MARKER

_PRONOUN = re.compile(r"\b(he|him|his|she|her|hers|they|them|their|it|its|this one|that one|one)\b", re.I)
_PERSONAL = {"he", "him", "his", "she", "her", "hers"}
_POSSESSIVE = {"his", "her", "its", "their"}
_ONE = {"one", "this one", "that one"}
_THEIR = re.compile(r"^\s*(?:their|its)\s+", re.I)
_LEAD = re.compile(r"^\s*(and|so|but|also|then|ok|okay)\b[\s,]*", re.I)
_SWAP = re.compile(r"^\s*(?:(?:and\s+)?(?:what|how)\s+about|and)\s+(?P<x>.+?)\s*\??\s*$", re.I)
_VERB = re.compile(
    r"\b(is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|happens?|means?|returns?|"
    r"use[sd]?|set|get|make|work|change|say|says|mean)\b",
    re.I,
)
_NAME = re.compile(r"\b([A-Z][\w’'-]+(?:\s+(?:al-|bin\s+)?[A-Z][\w’'-]+)+)")
_TITLES = re.compile(r"^(The|A|An|On|In|At|Last|This|That|President|Prime|Ambassador|Minister)\s+")
# A token that names something in a manual: a path, an option, a call, a dotted or snake_case or camelCase
# name, a quoted term, an upper-case constant.
_CODE = re.compile(
    r"(?<![\w/.-])(?:/[\w.+-]+(?:/[\w.+-]*)*|--?[A-Za-z][\w-]*|[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+(?:\(\))?"
    r"|[A-Za-z_]\w*\(\)|[a-z]+[A-Z]\w*|[A-Z][a-z]+[A-Z]\w*|\w+_\w+|[A-Z][A-Z0-9_]{2,}|[‘'\"“][^‘'\"“”’]{1,40}[’'\"”])"
)
_PREPOSITIONS = ("on", "in", "for", "with", "under", "to", "from", "of", "at", "by")
_HEADS = (
    "option", "options", "flag", "flags", "variable", "variables", "command", "commands", "module", "modules",
    "directory", "directories", "file", "files", "function", "functions", "method", "methods", "class", "field",
    "keyword", "keywords", "event", "events", "setting", "settings", "parameter", "argument", "program", "package",
    "hierarchy", "section", "header", "mode", "format", "policy", "language",
)  # fmt: skip
_WH_NOUN = re.compile(
    r"^\s*(?:what|which)\s+(?P<np>(?:[\w.’'/-]+\s+){0,3}?[\w.’'/-]+)\s+(?:does|do|did|is|are|was|were|can|should|must)\b",
    re.I,
)
_WHAT_IS = re.compile(
    r"^\s*what\s+(?:is|are|does|do)\s+(?P<x>.+?)(?:\s+(?:do|mean|stand for|hold|contain))?\s*\?", re.I
)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)
# A question asking for a way to do something: a pronoun after it points at the way the answer named.
_ASKS_FOR_A_MEANS = re.compile(r"^\s*(?:how\s+(?:do|can|should|would)\s+(?:i|you|we|one)\b|how\s+to\b)", re.I)


class Turn(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def content(self) -> str: ...


def rewrite_followup(question: str, history: Sequence[Turn]) -> str | None:
    """The standalone question, or None when the question already stands alone."""
    previous = next((t.content for t in reversed(history) if t.role == "user"), None)
    if previous is None:
        return None
    swap = _SWAP.match(question)
    if swap and not _VERB.search(swap.group("x")) and len(swap.group("x").split()) <= 6:
        x = swap.group("x")
        if re.search(r"\babout\b", question, re.I):  # "What about their variable data?": same subject, other data
            x = _THEIR.sub("", x)
        if not _PRONOUN.search(x):  # "And its default?" asks for the default of what "its" points at
            return _capital(_swapped(previous.strip(), x))
    pronoun = _PRONOUN.search(question)
    if pronoun is None:
        return None
    if pronoun.group(1).lower() in _ONE:  # "Which one is the default?": one of what the previous question listed
        return f"{previous.strip().rstrip('?')} — {question[:1].lower()}{question[1:]}"
    referent = _referent(pronoun.group(1).lower(), previous, history)
    if referent is None:
        return None
    replacement = referent + ("'s" if pronoun.group(1).lower() in _POSSESSIVE else "")
    standalone = _LEAD.sub("", question[: pronoun.start()] + replacement + question[pronoun.end() :])
    if not _VERB.search(standalone) and not re.match(r"\s*(?:what|which|who|when|where|why|how)\b", standalone, re.I):
        standalone = f"What is {standalone}"  # "And its default?" -> "What is recvBufferSize's default?"
    return _capital(standalone)


def _capital(text: str) -> str:
    """Sentence case, unless it starts with a name written in lower case ("recvBufferSize's default?")."""
    first = _CODE.match(text)
    return text if first is not None else text[:1].upper() + text[1:]


def _swapped(previous: str, x: str) -> str:
    """``previous`` asked about ``x`` instead of what it was about."""
    x = x.strip().rstrip("?").strip()
    words = x.split()
    if words and words[0].lower() in _PREPOSITIONS:  # "And on Windows?": the same preposition's object
        found = _phrase_after(previous, words[0])
        if found is not None:
            return previous[: found[0]] + " ".join(words[1:]) + previous[found[1] :]
    bare = _ARTICLE.sub("", x)
    compound = re.match(r"(?P<a>\S+)\s+(?P<p>" + "|".join(_PREPOSITIONS) + r")\s+(?P<b>\S+)$", bare)
    if compound is not None:  # "the ‘n’ in ngettext" for "the ‘p’ in pgettext"
        a = _slot(previous, compound.group("a"))
        if a is not None:
            after = re.match(rf"\s+{compound.group('p')}\s+\S+?(?=[\s?,;:]|$)", previous[a[1] :])
            if after is not None:
                return previous[: a[0]] + bare + previous[a[1] + after.end() :]
    span = _slot(previous, bare)
    if span is not None:
        return previous[: span[0]] + bare + previous[span[1] :]
    return f"{previous.rstrip(' ?')}: what about {bare}?"


def _phrase_after(text: str, preposition: str) -> tuple[int, int] | None:
    """The span of the (last) object of ``preposition`` in ``text``: up to the next punctuation or preposition."""
    matches = list(re.finditer(rf"\b{preposition}\s+(?:the\s+)?", text, re.I))
    if not matches:
        return None
    start = matches[-1].end()
    stop = re.compile(r"[?,;:]|\s(?:" + "|".join(_PREPOSITIONS) + r"|by default)\b", re.I).search(text, start)
    end = stop.start() if stop else len(text)
    return (start, end) if end > start else None


def _kind(token: str) -> str:
    if token.startswith("/"):
        return "path"
    if token.startswith("-"):
        return "option"
    if token[:1] in "‘'\"“":
        return "quoted"
    if token.endswith("()"):
        return "call"
    if "." in token:
        return "dotted"
    if token[:1].isupper() and not token.isupper():
        return "Name"
    return "code"


def _slot(previous: str, x: str) -> tuple[int, int] | None:
    """Where in ``previous`` the thing ``x`` replaces is named."""
    code = list(_CODE.finditer(previous))
    if _CODE.fullmatch(x):
        same = [m for m in code if _kind(m.group(0)) == _kind(x)]
        if same:
            return same[0].span()
    if x[:1].isupper():  # a name for a name ("Arabic" -> "Slovenian"), not the question's first word
        names = [m for m in re.finditer(r"\b[A-Z][a-z][\w-]*\b", previous) if m.start() > 0]
        if names:
            return names[-1].span()
        found = _phrase_after(previous, "for")  # "the default flush for zlib-based classes" -> "for Brotli"
        if found is not None:
            return found
    # The name before a generic head noun: "the unicode option", "the Node.js cluster module".
    head = re.search(r"\b([\w.’'()/-]+)\s+(?:" + "|".join(_HEADS) + r")\b", previous[1:])
    if head is not None and head.group(1).lower() not in ("the", "a", "an", "default", "which", "what"):
        return head.start(1) + 1, head.end(1) + 1
    if code:
        return code[-1].span()
    subject = re.search(r"\b(?:does|do|did|is|are|can|should|must)\s+(?:the\s+)?([\w.-]+)\s+\w", previous)
    if subject is not None and " " not in x:  # "Which user does sshd run as?" -> "... does ssh-agent run as?"
        return subject.span(1)
    found = _phrase_after(previous, "for")  # "default keywords for Lisp" -> "for awk"
    if found is not None:
        return found
    return None


def _referent(pronoun: str, previous: str, history: Sequence[Turn]) -> str | None:
    """What a pronoun in the follow-up points at."""
    if pronoun in _PERSONAL or pronoun in ("they", "them", "their"):
        for turn in reversed(history):  # people and groups: the previous answer's names first
            names = _names(CITATION_MARKER.sub("", turn.content))
            if names:
                return names[0]
        if pronoun in _PERSONAL:
            return None
    if _ASKS_FOR_A_MEANS.match(previous):  # "How do I get X?" -> "Set OUTPUT_CHARSET ..." -> "Does it ...?"
        answer = next((t.content for t in reversed(history) if t.role == "assistant"), "")
        named = [m.group(0) for m in _CODE.finditer(CITATION_MARKER.sub("", answer)) if m.group(0) not in previous]
        if named:
            return named[0]
    wh = _WH_NOUN.match(previous)
    if wh is not None and not _CODE.search(wh.group("np")) and not _VERB.match(wh.group("np")):
        return "the " + wh.group("np")
    code = _CODE.search(previous)
    if code is not None:
        return code.group(0)
    what = _WHAT_IS.match(previous)
    if what is not None:
        return _ARTICLE.sub("", what.group("x")).strip()
    names = _names(previous)
    return names[0] if names else None


def _names(text: str) -> list[str]:
    """Multi-word capitalised names of people or groups in order of appearance (titles dropped, places
    such as "Golan Heights" skipped: a pronoun like "him" or "they" rarely points at a place)."""
    found = []
    for match in _NAME.finditer(text):
        name = _TITLES.sub("", match.group(1)).strip()
        if " " in name and name.split()[-1].lower() not in PLACE_WORDS:
            found.append(name)
    return found
