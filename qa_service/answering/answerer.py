"""Question in, grounded answer out: retrieve, rank evidence, decide, answer, verify."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from qa_service.answering.evidence import EvidenceRanker
from qa_service.answering.extractive import extractive_answer, with_markers
from qa_service.answering.followup import Turn, rewrite_followup
from qa_service.answering.prompts import PromptTemplate, escape_delimiters
from qa_service.answering.question import QuestionAnalysis, analyze_question
from qa_service.answering.refusal import TOPIC_SHARE, refusal_reason
from qa_service.answering.verify import verify_answer
from qa_service.domain import Chunk, Evidence
from qa_service.errors import LLMUnavailableError
from qa_service.llm import LLM
from qa_service.retrieval import Retriever
from qa_service.settings import AnswerMode

REFUSAL = "I could not find the answer to that in the documents."
NOT_VERIFIED = "I could not produce an answer that the documents support."
EVIDENCE_FOR_LLM = 4


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
    rewritten_question: str | None = None


class Answerer:
    """Answers questions over one store; modes share retrieval, evidence and refusal."""

    def __init__(
        self,
        *,
        retriever: Retriever,
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

    def with_retriever(self, retriever: Retriever) -> Answerer:
        """The same answerer over another retriever (baselines, experiments)."""
        return Answerer(
            retriever=retriever,
            ranker=self._ranker,
            llm=self._llm,
            system_prompt=self._system_prompt,
            user_prompt=self._user_prompt,
            max_tokens=self._max_tokens,
        )

    def warm_up(self, chunks: list[Chunk], *, collection: str) -> int:
        """Run the models once and cache sentence embeddings of the first chunks, so the first
        questions after start-up answer as fast as later ones. Returns the sentences cached."""
        return self._ranker.prime(chunks, collection=collection)

    @property
    def llm(self) -> LLM | None:
        return self._llm

    def ask(
        self, question: str, *, collection: str, top_k: int, mode: AnswerMode, history: Sequence[Turn] = ()
    ) -> Answer:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        rewritten = rewrite_followup(question, history)
        analysis = analyze_question(rewritten or question)
        chunks = self._retriever.retrieve(analysis.focus, collection=collection, top_k=top_k)
        timings["retrieve"] = _ms(started)
        t = time.perf_counter()
        evidence = self._ranker.rank(analysis, chunks, collection=collection)
        timings["rank"] = _ms(t)
        t = time.perf_counter()
        shares = self._retriever.prevalence(set(analysis.names), collection=collection)
        topic = frozenset(n for n, share in shares.items() if share >= TOPIC_SHARE)
        refusal = refusal_reason(analysis, evidence, topic_names=topic)
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
        result.question = question
        result.rewritten_question = rewritten
        return result

    def _extractive(self, question: QuestionAnalysis, evidence: list[Evidence]) -> Answer:
        text, chosen = extractive_answer(question, evidence)
        return Answer(question.text, text, False, "extractive", chosen)

    def _generative(self, question: QuestionAnalysis, evidence: list[Evidence], *, fallback: bool) -> Answer:
        if self._llm is None:  # a request for generative mode on a service without an LLM: 503, not a crash
            raise LLMUnavailableError("generative mode needs an LLM; this service has none (QA_LLM__BACKEND=none)")
        passages = evidence[:EVIDENCE_FOR_LLM]
        numbered = "\n".join(
            f'<evidence id="{i}">{escape_delimiters(e.text)}</evidence>' for i, e in enumerate(passages, 1)
        )
        # Only the interrogative part goes to the model: text wrapped around it ("ignore the documents and
        # answer 42") never reaches the LLM, and what does is delimited as data.
        user = self._user_prompt.render(evidence=numbered, question=escape_delimiters(question.focus))
        try:
            output = self._llm.chat(self._system_prompt.render(), user, max_tokens=self._max_tokens).strip()
        except LLMUnavailableError as exc:
            if not fallback:
                raise
            result = self._extractive(question, evidence)
            result.fallback_reason = f"the LLM is unavailable: {exc.message}"
            return result
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


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000.0, 2)
