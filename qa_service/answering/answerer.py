"""Question in, grounded answer out: retrieve, rank evidence, decide, answer, verify."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from qa_service.answering.evidence import EvidenceRanker
from qa_service.answering.prompts import PromptTemplate, escape_delimiters
from qa_service.answering.question import QuestionAnalysis, analyze_question, holds_answer_type
from qa_service.answering.verify import verify_answer
from qa_service.domain import Evidence
from qa_service.llm import LLM
from qa_service.retrieval import HybridRetriever
from qa_service.settings import AnswerMode
from qa_service.text import mentions, numbers, stem_terms, words

REFUSAL = "I could not find the answer to that in the documents."
NOT_VERIFIED = "I could not produce an answer that the documents support."
EVIDENCE_FOR_LLM = 4
# Refusal is decided from several signals of the evidence, never from one score alone.
MIN_SEMANTIC = 0.25  # below this the best sentence is about something else
MIN_COVERAGE = 0.34  # share (IDF-weighted) of the question's key terms in the best sentence ...
STRONG_SEMANTIC = 0.55  # ... unless the sentence is a close paraphrase of the question
NAME_POOL = 5  # names the question mentions must occur in one of this many best sentences
MIN_NAME_SHARE = 0.75  # ... and most of them in the sentences the answer quotes
MIN_COUNTED_SIMILARITY = 0.35  # "how many X": the noun after a number must be about X
# Only types the detector recognises reliably decide a refusal; person/place are soft (score) signals.
ENFORCED_TYPES = frozenset({"number", "year", "date"})
SECOND_SENTENCE_RATIO = 0.85  # a second sentence is quoted only when it scores this close to the first
TYPED_RUNNER_UP_RATIO = 0.9  # a sentence holding the asked-for type may win when it scores this close


@dataclass(slots=True)
class Answer:
    """What ``/ask`` returns, before HTTP."""

    question: str
    answer: str
    refused: bool
    mode: Literal["extractive", "generative"]
    citations: list[Evidence]
    timings_ms: dict[str, float] = field(default_factory=dict)
    refusal_reason: str | None = None
    fallback_reason: str | None = None
    llm_output: str | None = None


class Answerer:
    """Answers questions over one store; modes share retrieval, evidence and refusal."""

    def __init__(
        self,
        *,
        retriever: HybridRetriever,
        ranker: EvidenceRanker,
        llm: LLM | None,
        system_prompt: PromptTemplate,
        user_prompt: PromptTemplate,
        max_tokens: int = 96,
    ) -> None:
        self._retriever = retriever
        self._ranker = ranker
        self._llm = llm
        self._system_prompt = system_prompt
        self._user_prompt = user_prompt
        self._max_tokens = max_tokens

    @property
    def has_llm(self) -> bool:
        return self._llm is not None

    def ask(self, question: str, *, collection: str, top_k: int, mode: AnswerMode) -> Answer:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        analysis = analyze_question(question)
        chunks = self._retriever.retrieve(analysis.focus, collection=collection, top_k=top_k)
        timings["retrieve"] = _ms(started)
        t = time.perf_counter()
        evidence = self._ranker.rank(analysis, chunks, collection=collection)
        timings["rank"] = _ms(t)
        t = time.perf_counter()
        refusal = refusal_reason(analysis, evidence)
        if refusal is not None:
            result = Answer(question, REFUSAL, True, "extractive", [], refusal_reason=refusal)
        elif mode == "extractive" or (mode == "auto" and self._llm is None):
            result = self._extractive(analysis, evidence)
            if mode == "auto":
                result.fallback_reason = "no LLM is configured"
        else:
            result = self._generative(analysis, evidence, fallback=(mode == "auto"))
        timings["answer"] = _ms(t)
        timings["total"] = _ms(started)
        result.timings_ms = timings
        return result

    def _extractive(self, question: QuestionAnalysis, evidence: list[Evidence]) -> Answer:
        chosen = sorted(select_extractive_evidence(question, evidence), key=lambda e: (e.document_id, e.start))
        text = " ".join(with_markers(e.text, (i,)) for i, e in enumerate(chosen, 1))
        return Answer(question.text, text, False, "extractive", chosen)

    def _generative(self, question: QuestionAnalysis, evidence: list[Evidence], *, fallback: bool) -> Answer:
        assert self._llm is not None, "generative mode needs an LLM"
        passages = evidence[:EVIDENCE_FOR_LLM]
        numbered = "\n".join(
            f'<evidence id="{i}">{escape_delimiters(e.text)}</evidence>' for i, e in enumerate(passages, 1)
        )
        user = self._user_prompt.render(evidence=numbered, question=escape_delimiters(question.text))
        output = self._llm.chat(self._system_prompt.render(), user, max_tokens=self._max_tokens).strip()
        verification = verify_answer(output, passages, question)
        if verification.passed:
            used = sorted({n for s in verification.sentences for n in s.citations})
            renumber = {old: new for new, old in enumerate(used, 1)}
            text = " ".join(
                with_markers(s.text, tuple(renumber[n] for n in s.citations)) for s in verification.sentences
            )
            return Answer(question.text, text, False, "generative", [passages[n - 1] for n in used], llm_output=output)
        reason = "; ".join(verification.problems)[:500]
        if fallback:
            result = self._extractive(question, evidence)
            result.fallback_reason = f"the generated answer failed verification: {reason}"
            result.llm_output = output
            return result
        return Answer(question.text, NOT_VERIFIED, True, "generative", [], refusal_reason=reason, llm_output=output)


def refusal_reason(question: QuestionAnalysis, evidence: list[Evidence]) -> str | None:
    """Why the evidence does not answer the question, or None when it does.

    Several independent signals, each a reason a careful reader would give: the question names
    something the documents never mention; nothing retrieved is about the question; the best
    passage lacks the question's key terms, its names or numbers; or it holds no answer of the
    asked-for type (for "how many X", no number counting something like X).
    """
    if not evidence:
        return "no indexed text matches the question"
    pool = set(words(" ".join(e.text for e in evidence[:NAME_POOL])))
    missing = sorted(n for n in question.names if not mentions(n, pool))
    if missing:
        return f"the best passages never mention {', '.join(missing)}"
    semantic = max(e.features.get("semantic", 0.0) for e in evidence[:NAME_POOL])
    if semantic < MIN_SEMANTIC:
        return f"no passage is about the question (best similarity {semantic:.2f})"
    chosen = select_extractive_evidence(question, evidence)
    window = " ".join(e.text for e in chosen)
    window_words = set(words(window))
    best = chosen[0]
    if best.features.get("lexical", 0.0) < MIN_COVERAGE and best.features.get("semantic", 0.0) < STRONG_SEMANTIC:
        return "the best passage shares too few of the question's key terms"
    if question.names:
        share = sum(mentions(n, window_words) for n in question.names) / len(question.names)
        if share < MIN_NAME_SHARE:
            return "the best passage is about other people or places than the question"
    missing_numbers = question.numbers - numbers(window)
    if missing_numbers:
        return f"the best passage does not mention {', '.join(sorted(missing_numbers))}"
    if question.counted is not None:
        if max(e.features.get("type", 0.0) for e in chosen) < MIN_COUNTED_SIMILARITY:
            return f"no passage gives a number of {question.counted}"
    elif question.answer_type in ENFORCED_TYPES and not holds_answer_type(question, window):
        return f"the best passage holds no {question.answer_type}, which the question asks for"
    if not set(stem_terms(window)) - set(question.key_terms):
        return "the best passage only repeats the question"
    return None


def select_extractive_evidence(question: QuestionAnalysis, evidence: list[Evidence]) -> list[Evidence]:
    """The sentences an extractive answer quotes.

    The best sentence (or a close runner-up that holds the asked-for type); when it lacks that type
    and the sentence right after it has it, that one too (an answer often follows its lead-in:
    "... another Russian diplomat claimed ..." / "Alexander Lavrentyev, Putin's envoy ..."); otherwise
    a second close-scoring sentence that adds key terms the first lacks.
    """
    first = evidence[0]
    if not holds_answer_type(question, first.text):
        typed = next((e for e in evidence[1:4] if holds_answer_type(question, e.text)), None)
        if typed is not None and typed.score >= TYPED_RUNNER_UP_RATIO * first.score:
            first = typed
    if question.answer_type != "other" and not holds_answer_type(question, first.text):
        following = _next_sentence(first, evidence)
        if following is not None and holds_answer_type(question, following.text):
            return [first, following]
    chosen = [first]
    covered = set(_terms_in(question, first))
    for other in evidence[:4]:
        if other is first or other.score < SECOND_SENTENCE_RATIO * first.score:
            continue
        if set(_terms_in(question, other)) - covered:
            chosen.append(other)
            break
    return chosen


def _next_sentence(sentence: Evidence, evidence: list[Evidence]) -> Evidence | None:
    later = [e for e in evidence if e.document_id == sentence.document_id and e.start >= sentence.end]
    return min(later, key=lambda e: e.start, default=None)


def _terms_in(question: QuestionAnalysis, evidence: Evidence) -> list[str]:
    stems = set(stem_terms(evidence.text))
    return [t for t in question.key_terms if t in stems]


def with_markers(sentence: str, indexes: tuple[int, ...]) -> str:
    """Put ``[n]`` markers before the sentence's closing punctuation: "... killed [1]."."""
    markers = "".join(f"[{n}]" for n in indexes)
    body = sentence.rstrip()
    tail = ""
    while body and body[-1] in ".!?\"'”’)":
        tail = body[-1] + tail
        body = body[:-1]
    return f"{body} {markers}{tail}" if tail and tail[0] in ".!?" else f"{sentence.rstrip()} {markers}"


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000.0, 2)
