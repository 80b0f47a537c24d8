"""Short answers: the exact phrase inside a cited sentence that answers a "how many / when / who / which
function / what default" question, with its offsets in the document text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa_service.answering.question import _DATE, QuestionAnalysis
from qa_service.domain import Evidence
from qa_service.text import STOPWORDS, normalize, stem, words

_UNITS = frozenset(
    "bytes byte kb mb gb tb kib mib gib k m b bits bit characters chars seconds second s ms milliseconds minutes "
    "minute hours hour days day weeks week months month years year percent % km kilometers kilometres miles "
    "metres meters lines columns pages times".split()
)
_NUMBER_WORDS = "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred|thousand"
_NUMBER = re.compile(
    rf"(?<![\w.-])(?P<num>\d[\d,]*(?:\.\d+)?(?:[kKMG]b?|%)?|(?i:{_NUMBER_WORDS}))(?![\w-])(?:\s+(?P<unit>[A-Za-z%]+))?"
)
# Things with names in technical text: "Which function ...", "what command ...", "the name of the file".
_NAMED_THING = re.compile(
    r"\b(?:which|what)\s+(?:\w+\s+){0,2}?(?P<noun>function|command|option|flag|switch|file|directory|variable|"
    r"package|module|method|class|program|macro|keyword|operator|argument|field|header|event|property|"
    r"setting|mode|format|value|encoding|locale|signal|type|extension|suffix|prefix|tool|utility|library|"
    r"limit|size|length|maximum|minimum|port|version)s?\b",
    re.I,
)
_VALUE_NOUNS = frozenset("value setting mode format limit size length maximum minimum port version".split())
_DEFAULT = re.compile(r"\bdefaults?\b|\bby default\b", re.I)
# Code-like tokens: identifiers with _ . ( ) / : - or wrapped in quotes/backticks; options "--foo", "-e".
_CODE = re.compile(
    r"`(?P<tick>[^`]{1,60})`|(?<![\w/])(?P<code>(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+)|(?:--?[A-Za-z][\w-]*(?:=\S+)?)|"
    r"(?:[A-Za-z_.:/$~<][\w.:/$~<>*@-]*(?:\(\))?)|(?:[<:=-]{2,3}))"
)
# "which program ...", "what shell ...": a which/what question about a thing (not "what is", "what does")
# asks for that thing's name.
_WHICH_THING = re.compile(
    r"^(?:\W*\w+\W+){0,4}?(?:which|what)\s+(?!(?:is|are|was|were|does|do|did|can|could|should|would|will|has|"
    r"have|happens|kind|sort|type)\b)[a-z]|\bname of\b|\bcalled\b|\baddress\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class ShortAnswer:
    text: str
    document_id: str
    start: int
    end: int


def asks_short_answer(question: QuestionAnalysis) -> bool:
    return (
        question.answer_type != "other"
        or question.counted is not None
        or bool(_NAMED_THING.search(question.focus))
        or bool(_DEFAULT.search(question.focus))
        or bool(_WHICH_THING.search(question.focus))
    )


def short_answer(question: QuestionAnalysis, cited: list[Evidence]) -> ShortAnswer | None:
    """The answer phrase in the first cited sentence that holds one, or None."""
    if not asks_short_answer(question):
        return None
    for evidence in cited:
        found = answer_phrase(question, evidence.text)
        if found is not None:
            start, end = found
            return ShortAnswer(
                evidence.text[start:end], evidence.document_id, evidence.start + start, evidence.start + end
            )
    return None


def answer_phrase(question: QuestionAnalysis, sentence: str) -> tuple[int, int] | None:
    """Where in ``sentence`` the phrase of the asked-for kind is (a number, date, name, code token), or None."""
    asked = {normalize(w) for w in words(question.focus)}
    asked_stems = {stem(w) for w in asked}
    kind = question.answer_type
    if kind in ("number", "year") or question.counted is not None:
        return _first_new(_numbers(sentence, unit=kind == "number"), sentence, asked)
    if kind == "date":
        return _first_new([(m.start(), m.end()) for m in _DATE.finditer(sentence)], sentence, asked)
    if kind == "place":  # in technical text "where" is mostly a path: "/var/lib/emacs/lock"
        paths = [span for span in _code_spans(sentence, asked_stems, question.focus) if "/" in sentence[slice(*span)]]
        return _first_new(paths, sentence, asked, code=True) or _first_new(_name_runs(sentence), sentence, asked)
    if kind == "person":
        return _first_new(_name_runs(sentence), sentence, asked)
    spans = _code_spans(sentence, asked_stems, question.focus)
    thing = _NAMED_THING.search(question.focus)
    if _DEFAULT.search(question.focus) or (thing is not None and thing["noun"].lower() in _VALUE_NOUNS):
        spans = spans + _numbers(sentence, unit=True)
    spans.sort()
    return _first_new(spans, sentence, asked, code=True)


def _numbers(sentence: str, *, unit: bool) -> list[tuple[int, int]]:
    out = []
    for m in _NUMBER.finditer(sentence):
        with_unit = unit and m["unit"] is not None and m["unit"].lower() in _UNITS
        out.append((m.start(), m.end("unit") if with_unit else m.end("num")))
    return out


def _name_runs(sentence: str) -> list[tuple[int, int]]:
    """Runs of capitalised words, not at the sentence start."""
    runs = []
    for m in re.finditer(r"(?:[A-Z][\w’'-]*)(?:\s+(?:of\s+|the\s+|al-)?[A-Z][\w’'-]*)*", sentence):
        if m.start() == 0 or normalize(m.group(0)) in STOPWORDS:
            continue
        runs.append((m.start(), m.end()))
    return runs


def _code_spans(sentence: str, asked_stems: set[str], question_text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _CODE.finditer(sentence):
        group = "tick" if m["tick"] else "code"
        token = m[group] if group == "tick" else m[group].rstrip(".,;:")  # "/etc." ends a sentence
        end = m.start(group) + len(token)
        if not token:
            continue
        called = sentence[end : end + 1] == "("  # "sink(...)": a function's name
        if token.lower() in STOPWORDS or (token.isalpha() and stem(token.lower()) in asked_stems):
            continue
        if not token.isalpha() and re.search(rf"(?<![\w-]){re.escape(token)}(?![\w-])", question_text, re.I):
            continue  # the question's own "-e" or "setlocale()"
        if token.isalpha() and m["tick"] is None and not called:
            continue  # an ordinary word, not a name
        spans.append((m.start(group), end))
    return spans


def _first_new(
    spans: list[tuple[int, int]], sentence: str, asked: set[str], *, code: bool = False
) -> tuple[int, int] | None:
    """The first span whose words are not all in the question (code tokens were checked whole)."""
    for start, end in spans:
        strip = " ,;:" if code else " .,;:"  # a code token keeps its leading dot: ".loc", ".Rhistory"
        text = sentence[start:end].lstrip(strip).rstrip(" .,;:")
        if not text:
            continue
        tokens = {normalize(w) for w in words(text)}
        if tokens and tokens <= asked and not (code and not text.isalpha()):
            continue
        lead = len(sentence[start:end]) - len(sentence[start:end].lstrip(strip))
        return start + lead, start + lead + len(text)
    return None
