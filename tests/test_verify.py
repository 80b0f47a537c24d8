"""Verification of generated answers, with the real claim judge (qa_service/answering/judge.py)."""

from __future__ import annotations

import pytest

from qa_service.answering.judge import ClaimJudge
from qa_service.answering.question import analyze_question
from qa_service.answering.verify import parse_cited_sentences, verify_answer
from qa_service.domain import Evidence


def _ev(text: str) -> Evidence:
    return Evidence(document_id="d", source="s", chunk_id="c", start=0, end=len(text), text=text, score=1.0)


EVIDENCE = [
    _ev("Last week ISIS suicide bombers killed more than 215 Druze civilians in the city of Sweida."),
    _ev("Israel has now closed its border with Syria."),
]
QUESTION = analyze_question("How many Druze civilians were killed in Sweida?")


@pytest.fixture(scope="module")
def judge() -> ClaimJudge:
    return ClaimJudge.load()


def test_supported_answer_passes(judge: ClaimJudge) -> None:
    result = verify_answer("ISIS suicide bombers killed more than 215 Druze civilians [1].", EVIDENCE, QUESTION, judge)
    assert result.passed, result.problems
    assert result.sentences[0].citations == (1,)


def test_fabricated_number_is_rejected(judge: ClaimJudge) -> None:
    result = verify_answer("ISIS suicide bombers killed more than 315 Druze civilians [1].", EVIDENCE, QUESTION, judge)
    assert not result.passed
    assert any("315" in p for p in result.problems)


def test_citing_the_wrong_passage_is_rejected(judge: ClaimJudge) -> None:
    result = verify_answer("ISIS suicide bombers killed more than 215 Druze civilians [2].", EVIDENCE, QUESTION, judge)
    assert not result.passed


def test_citation_to_missing_evidence_is_rejected(judge: ClaimJudge) -> None:
    result = verify_answer("More than 215 Druze civilians were killed [7].", EVIDENCE, QUESTION, judge)
    assert not result.passed
    assert any("missing evidence" in p for p in result.problems)


def test_invented_name_is_rejected(judge: ClaimJudge) -> None:
    result = verify_answer("General Petraeus said 215 Druze civilians were killed [1].", EVIDENCE, QUESTION, judge)
    assert not result.passed


def test_answer_without_the_asked_type_is_rejected(judge: ClaimJudge) -> None:
    result = verify_answer("Druze civilians were killed in Sweida [1].", EVIDENCE, QUESTION, judge)
    assert not result.passed


def test_unmarked_supported_sentence_gets_its_citation(judge: ClaimJudge) -> None:
    result = verify_answer("More than 215 Druze civilians were killed in Sweida.", EVIDENCE, QUESTION, judge)
    assert result.passed, result.problems
    assert result.sentences[0].citations == (1,)


def test_markers_after_the_full_stop_attach_to_the_sentence() -> None:
    parsed = parse_cited_sentences("First claim. [1] Second claim [2].")
    assert [(s.text, s.citations) for s in parsed] == [("First claim.", (1,)), ("Second claim.", (2,))]
