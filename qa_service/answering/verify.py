"""Check that every sentence of a generated answer is supported by the evidence it cites: its numbers and
names are there, most of its terms are, and the claim judge (``judge.py``) does not find it unsupported."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa_service.answering.judge import ClaimJudge
from qa_service.answering.policy import MIN_TERM_SUPPORT
from qa_service.answering.question import QuestionAnalysis, holds_answer_type
from qa_service.answering.untrusted import addresses_reader
from qa_service.domain import CITATION_MARKER, Evidence
from qa_service.ingest.sentences import split_sentences
from qa_service.text import mentions, numbers, proper_names, stem_terms, words

_MARKER = re.compile(r"\s*" + CITATION_MARKER.pattern)
_LEADING_MARKERS = re.compile(r"^(?:\s*" + CITATION_MARKER.pattern + ")+")


@dataclass(frozen=True, slots=True)
class CitedSentence:
    text: str  # without markers
    citations: tuple[int, ...]  # 1-based evidence numbers


@dataclass(slots=True)
class Verification:
    passed: bool
    sentences: list[CitedSentence] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def parse_cited_sentences(answer: str) -> list[CitedSentence]:
    """Split an answer into sentences and the ``[n]`` markers each carries.

    Markers right after a full stop ("Claim. [1] Next ...") belong to the sentence before them.
    """
    out: list[CitedSentence] = []
    for start, end in split_sentences(answer):
        piece = answer[start:end]
        leading = _LEADING_MARKERS.match(piece)
        if leading and out:
            moved = tuple(int(n) for n in _MARKER.findall(leading.group(0)))
            out[-1] = CitedSentence(out[-1].text, out[-1].citations + moved)
            piece = piece[leading.end() :]
        cites = tuple(int(n) for n in _MARKER.findall(piece))
        text = _MARKER.sub("", piece).strip()
        if text:
            out.append(CitedSentence(text, cites))
    return out


def lexical_problems(sentence: str, spans: list[str], question: QuestionAnalysis) -> list[str]:
    """What the words show: numbers or names the cited spans lack, or too few of the sentence's terms."""
    evidence = " ".join(spans)
    problems: list[str] = []
    missing_numbers = numbers(sentence) - numbers(evidence)
    if missing_numbers:
        problems.append(f"numbers not in the cited evidence: {sorted(missing_numbers)}")
    evidence_stems = set(stem_terms(evidence))
    evidence_words = set(words(evidence))
    missing_names = {n for n in proper_names(sentence) if not mentions(n, evidence_words, strict=True)}
    if missing_names:
        problems.append(f"names not in the cited evidence: {sorted(missing_names)}")
    terms = set(stem_terms(sentence)) - set(question.key_terms)
    if terms:
        supported = len(terms & evidence_stems) / len(terms)
        if supported < MIN_TERM_SUPPORT:
            problems.append(f"only {supported:.0%} of its key terms are in the cited evidence")
    return problems


def sentence_support(sentence: str, spans: list[str], question: QuestionAnalysis, judge: ClaimJudge) -> list[str]:
    """Problems that make ``sentence`` unsupported by ``spans`` (empty list: supported): the lexical checks,
    then the claim judge, which catches what words cannot show (a negation, a swapped option) in a sentence
    made of the evidence's own words."""
    problems = lexical_problems(sentence, spans, question)
    if not problems and not judge.supported(sentence, spans):
        problems.append("the claim judge finds it unsupported by the cited evidence")
    return problems


def verify_answer(answer: str, evidence: list[Evidence], question: QuestionAnalysis, judge: ClaimJudge) -> Verification:
    """Every sentence must cite valid evidence numbers and be supported by the spans it cites.

    A sentence without a marker is accepted only if exactly the best-supporting single passage
    supports it; the marker is then added, so the returned sentences always carry citations.
    """
    sentences = parse_cited_sentences(answer)
    if not sentences:
        return Verification(False, problems=["empty answer"])
    problems: list[str] = []
    checked: list[CitedSentence] = []
    for sentence in sentences:
        if addresses_reader(sentence.text):  # a document's notice to "any AI", repeated: never an answer
            problems.append(f"{sentence.text!r}: addresses the reader or the assistant")
            continue
        cites = sentence.citations
        invalid = [n for n in cites if not 1 <= n <= len(evidence)]
        if invalid:
            problems.append(f"{sentence.text!r}: cites missing evidence {invalid}")
            continue
        if not cites:
            cites = _best_supporting(sentence.text, evidence, question, judge)
            if not cites:
                problems.append(f"{sentence.text!r}: no citation and no single passage supports it")
                continue
        issues = sentence_support(sentence.text, [evidence[n - 1].text for n in cites], question, judge)
        problems.extend(f"{sentence.text!r}: {issue}" for issue in issues)
        checked.append(CitedSentence(sentence.text, tuple(dict.fromkeys(cites))))
    if question.answer_type != "other" and not any(holds_answer_type(question, s.text) for s in checked):
        problems.append(f"the answer holds no {question.answer_type}, which the question asks for")
    return Verification(not problems, checked, problems)


def _best_supporting(
    sentence: str, evidence: list[Evidence], question: QuestionAnalysis, judge: ClaimJudge
) -> tuple[int, ...]:
    for n, item in enumerate(evidence, 1):
        if not sentence_support(sentence, [item.text], question, judge):
            return (n,)
    return ()
