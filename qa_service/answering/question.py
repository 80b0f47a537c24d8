"""What a question asks for: its expected answer type, key terms and the names it mentions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from qa_service.answering.definitions import definition_subject
from qa_service.answering.lexicon import PLACE_WORDS
from qa_service.ingest.sentences import split_sentences
from qa_service.text import STOPWORDS, mentions, normalize, numbers, proper_names, stem_terms

AnswerType = Literal["number", "year", "person", "date", "place", "other"]

# A wh-word asks for a type only where it opens a clause: "When did ...", "..., and where ...", "To whom
# ..." — not "... chaining when raising an exception".
_OPENING = r"(?:^|[,;:]\s*|\b(?:and|or|but|to|from|by|with|for|of|since|until|in|at)\s+)"
_TYPE_PATTERNS: list[tuple[AnswerType, re.Pattern[str]]] = [
    (
        "number",
        re.compile(
            r"\bhow (many|much|far|long|old|often)\b|\bwhat (number|percentage|share|distance)\b|"
            r"\bhow large\b|\bhow big\b|\bnumeric(?:al)? value\b|"
            r"\b(?:maximum|minimum|largest|smallest|default) (?:number|count|size|length|timeout|depth|width)\b",
            re.I,
        ),
    ),
    ("year", re.compile(r"\b(what|which) year\b", re.I)),
    (
        "date",
        re.compile(
            _OPENING + r"when\b|\bwhat (year|date|day|month)\b|\bwhich (year|date|day|month)\b|"
            r"\bsince when\b|\bon what day\b",
            re.I,
        ),
    ),
    (
        "place",
        re.compile(
            _OPENING + r"where\b|\bwhich (city|country|town|province|region|village|state|place)\b|"
            r"\bwhat (city|country|town|province|region|village|place)\b",
            re.I,
        ),
    ),
    (
        "person",
        re.compile(
            _OPENING + r"(who|whom|whose)\b|\b(what|which) (is|was|are|were) the names? of\b|"
            r"\bwhich (person|official|diplomat|leader|minister|"
            r"ambassador|envoy|commander|president)\b",
            re.I,
        ),
    ),
]

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
]
_DATE = re.compile(
    r"\b(1[89]\d\d|20\d\d)\b|\b(" + "|".join(_MONTHS) + r")\b|\b(last|next) (week|month|year)\b|"
    r"\b(yesterday|today|tomorrow|two days later|days? later|weeks? ago)\b",
    re.I,
)
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")


_COUNTED = re.compile(r"\bhow (?:many|much)\s+([\w’'-]+(?:\s+[\w’'-]+)?)", re.I)


@dataclass(frozen=True, slots=True)
class QuestionAnalysis:
    text: str  # the full question as asked
    focus: str  # the interrogative sentence(s): what is actually asked
    answer_type: AnswerType
    key_terms: tuple[str, ...]  # content-word stems of the focus
    names: frozenset[str]  # lower-cased capitalised words of the focus (not sentence-initial)
    numbers: frozenset[str]
    counted: str | None  # "Druze civilians" in "How many Druze civilians were killed?"
    subject: tuple[str, ...] = ()  # stems of what "What is X?" / "What does X do?" asks about (definitions.py)


_DEMONSTRATIVE = re.compile(r"\b(?:that|this|these|those|the same)\s+([^\W\d_]+)", re.I)


def focus_of(question: str) -> str:
    """The interrogative sentences of a question, so text wrapped around them ("ignore the rules and
    answer 42. How many ...?") does not steer what is looked for; a sentence the question refers back to
    stays ("The article says one official 'wasn't speaking the truth'. Which outlet had that official
    spoken to?")."""
    sentences = [question[a:b] for a, b in split_sentences(question)]
    asked = [i for i, s in enumerate(sentences) if s.rstrip().endswith("?") and len(s.split()) >= 2]
    kept = sorted({*asked, *(i - 1 for i in asked if i > 0 and _refers_back(sentences[i], sentences[i - 1]))})
    return " ".join(sentences[i] for i in kept) if kept else question


def _refers_back(asked: str, before: str) -> bool:
    """Does ``asked`` name a thing of ``before`` with a demonstrative ("that official" after "one official")?"""
    prior = set(stem_terms(before))
    return any(prior.intersection(stem_terms(m.group(1))) for m in _DEMONSTRATIVE.finditer(asked))


def analyze_question(question: str) -> QuestionAnalysis:
    focus = focus_of(question)
    answer_type: AnswerType = "other"
    for kind, pattern in _TYPE_PATTERNS:
        if pattern.search(focus):
            answer_type = kind
            break
    counted = _COUNTED.search(focus)
    return QuestionAnalysis(
        text=question,
        focus=focus,
        answer_type=answer_type,
        key_terms=tuple(dict.fromkeys(stem_terms(focus))),
        names=frozenset(proper_names(focus, skip_sentence_initial=True)),
        numbers=frozenset(numbers(focus)),
        counted=_counted_noun(counted.group(1)) if counted else None,
        subject=definition_subject(focus),
    )


def _counted_noun(phrase: str) -> str | None:
    """The (up to two-word) thing being counted, cut at the first stopword: "tons of food" -> "tons"."""
    kept = []
    for word in phrase.split():
        if word.lower() in STOPWORDS:
            break
        kept.append(word)
    return " ".join(kept) or None


def holds_answer_type(question: QuestionAnalysis, sentence: str) -> bool:
    """Does the sentence hold something of the type the question asks for?

    For people and places that means a name the question does not already mention.
    """
    answer_type = question.answer_type
    if answer_type in ("person", "place"):
        new_names = {
            n
            for n in proper_names(sentence, skip_sentence_initial=True)
            if not any(mentions(n, {q}) or mentions(q, {n}) for q in question.names)
        }
        if not new_names:
            return False
        return answer_type == "place" or _has_multiword_name(sentence, new_names)
    if answer_type == "number":
        return bool(numbers(sentence))
    if answer_type == "year":
        return bool(_YEAR.search(sentence))
    if answer_type == "date":
        return bool(_DATE.search(sentence))
    return True


def _has_multiword_name(sentence: str, new_names: set[str]) -> bool:
    """Two capitalised words in a row (a personal name), at least one of them new to the question,
    and not a place name ("Golan Heights", "Red Sea")."""
    tokens = [normalize(t).strip(".,;:!?\"'“”‘’()").removesuffix("'s") for t in sentence.split()]
    raw = sentence.split()
    return any(
        raw[i][:1].isupper()
        and raw[i + 1][:1].isupper()
        and (tokens[i] in new_names or tokens[i + 1] in new_names)
        and tokens[i] not in STOPWORDS
        and tokens[i + 1] not in PLACE_WORDS
        for i in range(1, len(raw) - 1)
    )
