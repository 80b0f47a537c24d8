"""Check that every sentence of a generated answer is supported by the evidence it cites: the names it gives
are there, and the claim judge (``judge.py``, a cross-encoder fine-tuned here) reads the sentence with the spans
it cites. The judge replaced the lexical number and term-overlap checks (``evals/lexical_verifier.py`` keeps
them as its baseline)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa_service.answering.judge import ClaimJudge
from qa_service.answering.question import QuestionAnalysis, holds_answer_type
from qa_service.answering.untrusted import addresses_reader
from qa_service.domain import CITATION_MARKER, Evidence
from qa_service.ingest.sentences import split_sentences
from qa_service.text import mentions, proper_names, words

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


def missing_names(sentence: str, spans: list[str]) -> list[str]:
    """Names the sentence gives (past its first word) that the cited spans do not: an invented person or source
    ("General Petraeus said ..."), which the judge alone lets through (BENCHMARKS.md)."""
    evidence_words = set(words(" ".join(spans)))
    named = proper_names(sentence, skip_sentence_initial=True)
    return sorted(n for n in named if not mentions(n, evidence_words, strict=True))


def support_probability(sentence: str, spans: list[str], judge: ClaimJudge) -> float:
    """What ``sentence_support`` compares with a threshold: 0 when the sentence names someone the spans do not,
    else the claim judge's probability that the spans support it."""
    return 0.0 if missing_names(sentence, spans) else judge.support([sentence], [spans])[0]


def sentence_support(sentence: str, spans: list[str], judge: ClaimJudge, *, strict: bool = False) -> list[str]:
    """Problems that make ``sentence`` unsupported by ``spans`` (empty list: supported): a name the spans lack,
    else the claim judge's verdict (at its strict point when ``strict``)."""
    missing = missing_names(sentence, spans)
    if missing:
        return [f"names not in the cited evidence: {missing}"]
    return (
        []
        if judge.supported(sentence, spans, strict=strict)
        else ["the claim judge finds it unsupported by the cited evidence"]
    )


def verify_answer(
    answer: str, evidence: list[Evidence], question: QuestionAnalysis, judge: ClaimJudge, *, strict: bool = False
) -> Verification:
    """Every sentence must cite valid evidence numbers and be supported by the spans it cites (``strict``: by the
    judge's strict point, for an answer that has a quote to fall back on).

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
            cites = _best_supporting(sentence.text, evidence, judge, strict)
            if not cites:
                problems.append(f"{sentence.text!r}: no citation and no single passage supports it")
                continue
        issues = sentence_support(sentence.text, [evidence[n - 1].text for n in cites], judge, strict=strict)
        problems.extend(f"{sentence.text!r}: {issue}" for issue in issues)
        checked.append(CitedSentence(sentence.text, tuple(dict.fromkeys(cites))))
    if question.answer_type != "other" and not any(holds_answer_type(question, s.text) for s in checked):
        problems.append(f"the answer holds no {question.answer_type}, which the question asks for")
    return Verification(not problems, checked, problems)


def _best_supporting(sentence: str, evidence: list[Evidence], judge: ClaimJudge, strict: bool) -> tuple[int, ...]:
    for n, item in enumerate(evidence, 1):
        if not sentence_support(sentence, [item.text], judge, strict=strict):
            return (n,)
    return ()
