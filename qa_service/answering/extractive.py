"""Extractive answers: choose the sentences to quote and cite them, no LLM involved."""

from __future__ import annotations

from qa_service.answering.anaphora import follows
from qa_service.answering.definitions import TITLED
from qa_service.answering.policy import (
    DEFINITION_POOL,
    DEFINITION_RATIO,
    SECOND_SENTENCE_RATIO,
    TYPED_RUNNER_UP_RATIO,
)
from qa_service.answering.question import QuestionAnalysis, holds_answer_type
from qa_service.answering.short import answer_phrase, asks_short_answer
from qa_service.answering.untrusted import without_markers
from qa_service.domain import Evidence
from qa_service.text import stem_terms


def select_extractive_evidence(question: QuestionAnalysis, evidence: list[Evidence]) -> list[Evidence]:
    """The sentences an extractive answer quotes: for "What is X?" / "What does X do?" the sentence that
    defines X, when one ranks close enough (``_definition``); otherwise the best sentences. A quoted
    sentence that opens by referring back ("This is the only way to terminate repeat loops.") is quoted
    with the sentence it refers to, without which it does not say what it is about."""
    informative = [e for e in evidence if _adds_information(question, e)] or evidence
    chosen = _definition(question, informative) or best_sentences(question, evidence)
    out: list[Evidence] = []
    for sentence in chosen:
        # The short answer is taken from the first cited sentence holding one, which can be this one; the
        # eval saw no short answer change (and keeping it out when the sentence holds one cost citations).
        before = next((e for e in evidence if follows(e, sentence)), None)
        if before is not None and before not in chosen and before not in out:
            out.append(before)
        out.append(sentence)
    return out


def best_sentences(question: QuestionAnalysis, evidence: list[Evidence]) -> list[Evidence]:
    """The best-ranked sentences that answer: what the answerability model judges (``signals.context``).

    The best sentence (or a close runner-up that holds the asked-for type); when it lacks that type
    and the sentence right after it has it, that one too (an answer often follows its lead-in:
    "... another Russian diplomat claimed ..." / "Alexander Lavrentyev, Putin's envoy ..."); otherwise
    a second close-scoring sentence that adds key terms the first lacks. When the question asks for a
    short answer (a number, a default, a name) that the chosen sentence does not hold, the first later
    sentence of the same block that holds one is quoted with it: an option's description ends "Default:
    4.", a definition's second sentence gives the value ("MAXYEAR is 9999.").
    """
    # A sentence that holds nothing beyond the question's own words (a heading, a signature line) cannot
    # answer it; the next best can.
    evidence = [e for e in evidence if _adds_information(question, e)] or evidence
    first = evidence[0]
    if not holds_answer_type(question, first.text):
        typed = [
            e
            for e in evidence[1:4]
            if e.score >= TYPED_RUNNER_UP_RATIO * first.score and holds_answer_type(question, e.text)
        ]
        if typed:
            # Among close runners-up, the one sharing most of the question's terms ("ambassador").
            first = max(typed, key=lambda e: (e.features.get("lexical", 0.0), e.score))
    if question.answer_type in ("person", "place") and not holds_answer_type(question, first.text):
        following = _next_sentence(first, evidence)
        if following is not None and holds_answer_type(question, following.text):
            return [first, following]
    continuation = _block_continuation(question, first, evidence)
    if continuation is not None:
        return [first, continuation]
    chosen = [first]
    covered = set(_terms_in(question, first))
    for other in evidence[:4]:
        if other is first or other.score < SECOND_SENTENCE_RATIO * first.score:
            continue
        if set(_terms_in(question, other)) - covered:
            chosen.append(other)
            break
    return chosen


def _definition(question: QuestionAnalysis, evidence: list[Evidence]) -> list[Evidence] | None:
    """For "What is X?" / "What does X do?": the best close sentence that defines X, with the sentence
    right after it when that one goes on about it ("... a file named LINGUAS. This file contains ...").

    It changes what is quoted, not whether the question is answered: the answerability model judges the
    best-ranked sentences (``best_sentences``), and was fitted on them; a definition shares fewer of the
    question's words than a passing mention does, so judging it instead would refuse what it answers."""
    if not question.subject or asks_short_answer(question):
        return None
    floor = DEFINITION_RATIO * evidence[0].score
    # The first in rank order of: the opening of the section titled with the subject (its definition,
    # wherever it ranks), or another sentence of a defining shape scoring close to the best one.
    found = next(
        (
            e
            for i, e in enumerate(evidence)
            if e.features.get("defines", 0.0) >= TITLED
            or (e.features.get("defines") and e.score >= floor and i < DEFINITION_POOL)
        ),
        None,
    )
    if found is None:
        return None
    following = next((e for e in evidence if follows(found, e)), None)
    if following is not None:
        return [found, following]
    return [found]


def _next_sentence(sentence: Evidence, evidence: list[Evidence]) -> Evidence | None:
    later = [e for e in evidence if e.document_id == sentence.document_id and e.start >= sentence.end]
    return min(later, key=lambda e: e.start, default=None)


def _block_continuation(question: QuestionAnalysis, first: Evidence, evidence: list[Evidence]) -> Evidence | None:
    if first.block_end is None or not asks_short_answer(question) or answer_phrase(question, first.text):
        return None
    later = sorted(
        (e for e in evidence if e.document_id == first.document_id and first.end <= e.start < first.block_end),
        key=lambda e: e.start,
    )
    return next((e for e in later if answer_phrase(question, e.text) is not None), None)


def _terms_in(question: QuestionAnalysis, evidence: Evidence) -> list[str]:
    stems = set(stem_terms(evidence.text))
    return [t for t in question.key_terms if t in stems]


def extractive_answer(question: QuestionAnalysis, evidence: list[Evidence]) -> tuple[str, list[Evidence]]:
    """Answer text with ``[n]`` markers, and the cited evidence in marker order (document order)."""
    chosen = sorted(select_extractive_evidence(question, evidence), key=lambda e: (e.document_id, e.start))
    return " ".join(with_markers(e.text, (i,)) for i, e in enumerate(chosen, 1)), chosen


def with_markers(sentence: str, indexes: tuple[int, ...]) -> str:
    """Put ``[n]`` markers before the sentence's closing punctuation: "... killed [1]."."""
    markers = " ".join(f"[{n}]" for n in indexes)
    sentence = without_markers(sentence)  # the document's own footnote markers are not ours
    body = sentence.rstrip()
    tail = ""
    while body and body[-1] in ".!?\"'”’)":
        tail = body[-1] + tail
        body = body[:-1]
    return f"{body} {markers}{tail}" if tail and tail[0] in ".!?" else f"{sentence.rstrip()} {markers}"


def _adds_information(question: QuestionAnalysis, evidence: Evidence) -> bool:
    return bool(set(stem_terms(evidence.text)) - set(question.key_terms))
