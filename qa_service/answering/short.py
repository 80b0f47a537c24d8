"""Short answers: the exact phrase inside a cited sentence that answers a "how many / when / who / which
function / what default" question, with its offsets in the document text."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa_service.answering.lexicon import THING_NOUNS
from qa_service.answering.question import _DATE, QuestionAnalysis
from qa_service.domain import Evidence
from qa_service.text import STOPWORDS, normalize, stem, stem_terms, word_spans, words

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
_NAMED_THING = re.compile(r"\b(?:which|what)\s+(?:\w+\s+){0,2}?(?P<noun>" + "|".join(THING_NOUNS) + r")s?\b", re.I)
_ABBREVIATION = re.compile(r"(?i)(?:e\.g|i\.e|etc|cf|vs|viz)\.?")
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
    """Where in ``sentence`` the phrase of the asked-for kind is (a number, date, name, code token), or None.
    Of several, the one nearest the words the sentence shares with the question: the answer to "which
    program acts as a guiding hand" sits next to "guiding hand", not at the sentence's first path."""
    asked = {normalize(w) for w in words(question.focus)}
    asked_stems = {stem(w) for w in asked}
    kind = question.answer_type
    if kind in ("number", "year") or question.counted is not None:
        spans = _in_asked_unit(_new(_numbers(sentence, unit=kind == "number"), sentence, asked), sentence, asked)
    elif kind == "date":
        spans = _new([(m.start(), m.end()) for m in _DATE.finditer(sentence)], sentence, asked)
    elif kind == "place":  # in technical text "where" is mostly a path: "/var/lib/emacs/lock"
        paths = [span for span in _code_spans(sentence, asked_stems, question.focus) if "/" in sentence[slice(*span)]]
        spans = _new(paths, sentence, asked, code=True) or _new(_name_runs(sentence), sentence, asked)
    elif kind == "person":
        spans = _new(_name_runs(sentence), sentence, asked)
    else:
        thing = _NAMED_THING.search(question.focus)
        noun = thing["noun"].lower() if thing is not None else None
        spans = _code_spans(sentence, asked_stems, question.focus, noun=noun)
        if _DEFAULT.search(question.focus) or noun in _VALUE_NOUNS:
            spans = spans + _in_asked_unit(_numbers(sentence, unit=True), sentence, asked)
        spans = _new(sorted(spans), sentence, asked, code=True)
        shaped = _SHAPES.get(noun or "")  # "which function": a name that is called, if the sentence has one
        if shaped is not None:
            spans = [span for span in spans if shaped(sentence, span)] or spans
    return _nearest(spans, sentence, question)


def _in_asked_unit(spans: list[tuple[int, int]], sentence: str, asked: set[str]) -> list[tuple[int, int]]:
    """Asked for "the payload size in bytes": the figures in bytes, not "16 bits" (all when none is)."""
    wanted = asked & _UNITS
    if not wanted:
        return spans
    return [span for span in spans if _unit(sentence, span) in wanted] or spans


def _called(sentence: str, span: tuple[int, int]) -> bool:
    return sentence[span[0] : span[1]].endswith(")") or sentence[span[1] : span[1] + 1] == "("


def _path_like(sentence: str, span: tuple[int, int]) -> bool:
    return any(c in sentence[span[0] : span[1]] for c in "./")


def _option_like(sentence: str, span: tuple[int, int]) -> bool:
    return sentence[span[0] : span[1]].startswith("-")


# The look of the thing a "which <noun>" question asks for, where it has one.
_SHAPES = {
    "function": _called, "method": _called, "macro": _called,
    "file": _path_like, "directory": _path_like, "extension": _path_like, "suffix": _path_like,
    "option": _option_like, "flag": _option_like, "switch": _option_like,
}  # fmt: skip


def _nearest(spans: list[tuple[int, int]], sentence: str, question: QuestionAnalysis) -> tuple[int, int] | None:
    """The span closest to the most words of the question: each question term the sentence holds outside the
    span counts 1 / (1 + the content words between them); the first span on a tie (and when the sentence
    shares no word with the question)."""
    if not spans:
        return None
    key = set(question.key_terms)
    stems = [(start, end, stem(w)) for start, end, w in word_spans(sentence)]
    anchors = [(start, end, term) for start, end, term in stems if term in key]

    def closeness(span: tuple[int, int]) -> float:
        best: dict[str, int] = {}
        for start, end, term in anchors:
            if end <= span[0]:
                gap = len(stem_terms(sentence[end : span[0]]))
            elif start >= span[1]:
                gap = len(stem_terms(sentence[span[1] : start]))
            else:
                continue
            best[term] = min(gap, best.get(term, gap))
        return sum(1.0 / (1 + gap) for gap in best.values())

    return max(spans, key=lambda span: (round(closeness(span), 6), -span[0]))


def _unit(sentence: str, span: tuple[int, int]) -> str:
    """The word right after the number at ``span`` ("10,000 bytes" -> "bytes"), lower-cased, or ""."""
    m = _NUMBER.match(sentence, span[0])
    return (m["unit"] or "").lower() if m else ""


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


def _code_spans(
    sentence: str, asked_stems: set[str], question_text: str, *, noun: str | None = None
) -> list[tuple[int, int]]:
    """Code-like tokens and acronyms; a plain word counts too when it names the asked-for thing: "the function
    sink", "the ldconfig program"."""
    spans = []
    for m in _CODE.finditer(sentence):
        group = "tick" if m["tick"] else "code"
        token = m[group] if group == "tick" else m[group].rstrip(".,;:")  # "/etc." ends a sentence
        start, end = m.start(group), m.start(group) + len(token)
        if not token:
            continue
        called = sentence[end : end + 1] == "("  # "sink(...)": a function's name
        if token.lower() in STOPWORDS or (token.isalpha() and stem(token.lower()) in asked_stems):
            continue
        if not token.isalpha() and re.search(rf"(?<![\w-]){re.escape(token)}(?![\w-])", question_text, re.I):
            continue  # the question's own "-e" or "setlocale()"
        if _ABBREVIATION.fullmatch(token):
            continue
        named = noun is not None and _named(noun, sentence[max(0, start - 30) : start], sentence[end : end + 30])
        acronym = token.isupper() and len(token) > 1  # "ESS", "POSIX": a name, not an ordinary word
        if token.isalpha() and m["tick"] is None and not (called or named or acronym):
            continue  # an ordinary word, not a name
        spans.append((start, end))
    return spans


def _named(noun: str, before: str, after: str) -> bool:
    """Is the word between ``before`` and ``after`` named as the ``noun``: "the function sink", "the ldconfig
    program"?"""
    if re.search(rf"(?i)\bthe\s+{noun}\s+$", before):
        return True
    return bool(re.search(r"(?i)\bthe\s+$", before)) and bool(re.match(rf"(?i)\s+{noun}\b", after))


def _new(spans: list[tuple[int, int]], sentence: str, asked: set[str], *, code: bool = False) -> list[tuple[int, int]]:
    """The spans whose words are not all in the question (code tokens were checked whole), trimmed."""
    out = []
    for start, end in spans:
        strip = " ,;:" if code else " .,;:"  # a code token keeps its leading dot: ".loc", ".Rhistory"
        text = sentence[start:end].lstrip(strip).rstrip(" .,;:")
        if not text:
            continue
        tokens = {normalize(w) for w in words(text)}
        if tokens and tokens <= asked and not (code and not text.isalpha()):
            continue
        lead = len(sentence[start:end]) - len(sentence[start:end].lstrip(strip))
        out.append((start + lead, start + lead + len(text)))
    return out
