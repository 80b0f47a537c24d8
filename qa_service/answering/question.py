"""What a question asks for: its expected answer type, key terms and the names it mentions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from qa_service.text import STOPWORDS, numbers, proper_names, stem, stem_terms, words

AnswerType = Literal["number", "person", "date", "place", "other"]

_TYPE_PATTERNS: list[tuple[AnswerType, re.Pattern[str]]] = [
    ("number", re.compile(r"\bhow (many|much|far|long|old)\b|\bwhat (number|percentage|share|distance)\b|"
                          r"\bhow large\b|\bhow big\b", re.I)),
    ("date", re.compile(r"\bwhen\b|\bwhat (year|date|day|month)\b|\bwhich (year|date|day|month)\b|"
                        r"\bsince when\b|\bon what day\b", re.I)),
    ("place", re.compile(r"\bwhere\b|\bwhich (city|country|town|province|region|village|state|place)\b|"
                         r"\bwhat (city|country|town|province|region|village|place)\b", re.I)),
    ("person", re.compile(r"\bwho\b|\bwhom\b|\bwhose\b|\bwhich (person|official|diplomat|leader|minister|"
                          r"ambassador|envoy|commander|president)\b|\bname of the\b", re.I)),
]

_MONTHS = ("january february march april may june july august september october november december "
           "monday tuesday wednesday thursday friday saturday sunday").split()
_DATE = re.compile(r"\b(1[89]\d\d|20\d\d)\b|\b(" + "|".join(_MONTHS) + r")\b|\b(last|next) (week|month|year)\b|"
                   r"\b(yesterday|today|tomorrow|two days later|days? later|weeks? ago)\b", re.I)
_PERSON_TITLES = re.compile(
    r"\b(president|prime minister|minister|ambassador|envoy|diplomat|spokes(man|woman|person)|commander|"
    r"head of|chief|general|dictator|king|leader|official|secretary|mr|mrs|ms|dr)\b", re.I)
_PLACE_CUE = re.compile(r"\b(in|at|near|from|into|to|along|across|outside)\s+(the\s+)?[A-Z][\w’'-]+")


@dataclass(frozen=True, slots=True)
class QuestionAnalysis:
    text: str
    answer_type: AnswerType
    key_terms: tuple[str, ...]  # content-word stems
    names: frozenset[str]  # stems of capitalised words (not the first word)
    numbers: frozenset[str]


def analyze_question(question: str) -> QuestionAnalysis:
    answer_type: AnswerType = "other"
    for kind, pattern in _TYPE_PATTERNS:
        if pattern.search(question):
            answer_type = kind
            break
    # Drop the first word: it is capitalised because it starts the sentence, not because it is a name.
    first_word_end = re.match(r"\s*\S+", question)
    rest = question[first_word_end.end():] if first_word_end else question
    names = frozenset(stem(w) for w in proper_names(rest) if w not in STOPWORDS)
    return QuestionAnalysis(
        text=question,
        answer_type=answer_type,
        key_terms=tuple(dict.fromkeys(stem_terms(question))),
        names=names,
        numbers=frozenset(numbers(question)),
    )


def has_answer_type(sentence: str, answer_type: AnswerType) -> bool:
    """Does the sentence hold something of the expected type (a number, date, person, place)?"""
    if answer_type == "number":
        return bool(numbers(sentence))
    if answer_type == "date":
        return bool(_DATE.search(sentence))
    if answer_type == "person":
        return bool(_PERSON_TITLES.search(sentence)) or _has_multiword_name(sentence)
    if answer_type == "place":
        return bool(_PLACE_CUE.search(sentence))
    return True


def _has_multiword_name(sentence: str) -> bool:
    tokens = sentence.split()
    return any(
        a[:1].isupper() and b[:1].isupper() and words(a) and words(a)[0] not in STOPWORDS
        for a, b in zip(tokens[1:], tokens[2:], strict=False)
    )
