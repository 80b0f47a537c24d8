"""Question in, grounded answer out: retrieve, rank evidence, decide, answer, verify."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from qa_service.answering.answerability import Decision, Refuser
from qa_service.answering.claims import ClaimLookup
from qa_service.answering.conflicts import Conflict, find_conflicts
from qa_service.answering.evidence import EvidenceRanker
from qa_service.answering.extractive import extractive_answer, select_extractive_evidence
from qa_service.answering.followup import Turn, rewrite_followup
from qa_service.answering.judge import ClaimJudge
from qa_service.answering.policy import EVIDENCE_FOR_LLM, TOPIC_SHARE
from qa_service.answering.prompts import PromptTemplate, escape_delimiters
from qa_service.answering.question import QuestionAnalysis, analyze_question
from qa_service.answering.requests import not_a_question
from qa_service.answering.short import ShortAnswer, short_answer
from qa_service.answering.signals import Context, context
from qa_service.answering.synthesis import (
    Part,
    attribute_sentence,
    compose_answer,
    conflicts_parts,
    is_synthesis_question,
    question_parts,
    render,
    select_synthesis_evidence,
)
from qa_service.answering.untrusted import keep_cited_markers
from qa_service.answering.verify import verify_answer
from qa_service.domain import Chunk, Evidence
from qa_service.errors import InvalidInputError, LLMUnavailableError
from qa_service.llm import LLM
from qa_service.retrieval import Retriever
from qa_service.settings import AnswerMode
from qa_service.text import strip_invisible

log = logging.getLogger("qa_service.answering")
# refusal_reason / fallback_reason are these codes, never text from a document or the model (which a
# document can steer); the details go to the log.
NO_EVIDENCE, NOT_ANSWERED, VERIFICATION_FAILED = "no_evidence", "not_answered", "verification_failed"
NOT_A_QUESTION = "not_a_question"
LLM_UNAVAILABLE, NO_LLM = "llm_unavailable", "no_llm"
PREMISE_CORRECTED = "premise_corrected"  # fallback_reason: a correction is quoted, whatever the mode
REFUSAL = "I could not find the answer to that in the documents."
NOT_VERIFIED = "I could not produce an answer that the documents support."
CORRECTION = "The documents say otherwise: "
NOT_A_QUESTION_TEXT = "That is a request, not a question about the documents; I only answer questions about them."


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
    conflicts: list[Conflict] = field(default_factory=list)  # every side's evidence is in ``citations``
    answerability: float | None = None  # P(the documents answer it), the model's (None: nothing retrieved)
    premise_corrected: bool = False  # the answer says what the documents hold instead of the question's premise
    short_answer: ShortAnswer | None = None  # the answering phrase inside a cited sentence


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the documents hold for a question, before any answer is written."""

    analysis: QuestionAnalysis
    evidence: list[Evidence]
    context: Context | None  # None: nothing retrieved
    decision: Decision | None


def no_llm_error() -> InvalidInputError:
    """Generative mode asked of a deployment without an LLM: not transient, so a 422 rather than a 503."""
    return InvalidInputError(
        "generative mode needs an LLM and none is configured (QA_LLM__BACKEND=none); use mode extractive or auto",
        code="mode_unavailable",
    )


class Answerer:
    """Answers questions over one store; modes share retrieval, evidence and refusal."""

    def __init__(
        self,
        *,
        retriever: Retriever,
        ranker: EvidenceRanker,
        refuser: Refuser,
        llm: LLM | None,
        system_prompt: PromptTemplate,
        user_prompt: PromptTemplate,
        max_tokens: int = 96,
        claims: ClaimLookup | None = None,
        refuse_requests: bool = False,
        correct_premises: bool = False,
        judge: ClaimJudge | None = None,
    ) -> None:
        """``judge``: the claim judge that verifies generated answers; needed when ``llm`` is set."""
        if llm is not None and judge is None:
            raise ValueError("an answerer with an LLM needs the claim judge to verify its answers")
        self._judge = judge
        self._correct_premises = correct_premises
        self._claims = claims
        self._refuse_requests = refuse_requests
        self._retriever = retriever
        self._ranker = ranker
        self._refuser = refuser
        self._llm = llm
        self._system_prompt = system_prompt
        self._user_prompt = user_prompt
        self._max_tokens = max_tokens

    def with_retriever(self, retriever: Retriever) -> Answerer:
        """The same answerer over another retriever (baselines, experiments)."""
        return Answerer(
            retriever=retriever,
            ranker=self._ranker,
            refuser=self._refuser,
            llm=self._llm,
            system_prompt=self._system_prompt,
            user_prompt=self._user_prompt,
            max_tokens=self._max_tokens,
            claims=self._claims,
            refuse_requests=self._refuse_requests,
            correct_premises=self._correct_premises,
            judge=self._judge,
        )

    @property
    def has_llm(self) -> bool:
        return self._llm is not None

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
        if self._refuse_requests and not_a_question(
            rewritten or question
        ):  # before retrieval: no passage is shown as its answer
            result = Answer(question, NOT_A_QUESTION_TEXT, True, "extractive", [], refusal_reason=NOT_A_QUESTION)
            result.timings_ms = {"total": _ms(started)}
            result.rewritten_question = rewritten
            return result
        analysis = analyze_question(rewritten or question)
        chunks = self._retriever.retrieve(analysis.focus, collection=collection, top_k=top_k)
        timings["retrieve"] = _ms(started)
        t = time.perf_counter()
        evidence = self._ranker.rank(analysis, chunks, collection=collection)
        timings["rank"] = _ms(t)
        t = time.perf_counter()
        assessment = self._decide(analysis, evidence, collection)
        decision = assessment.decision
        # Evidence that contradicts the question's premise is quoted as a correction, not as an answer: in
        # place of a refusal, or of an answer whose quote states the premise's opposite.
        correct = self._correct_premises and decision is not None and decision.premise_contradicted
        lead: list[Evidence] = []
        conflicts: list[Conflict] = []
        if decision is not None and decision.answerable and not correct:
            lead = self._lead(analysis, evidence, collection, top_k)
            conflicts = find_conflicts(analysis, lead, self._claim_pool(analysis, evidence, collection))
        if decision is None or not (decision.answerable or correct):
            log.info("refused (p=%s): %s", decision and decision.probability, decision and decision.signals)
            code = NOT_ANSWERED if evidence else NO_EVIDENCE
            result = Answer(question, REFUSAL, True, "extractive", [], refusal_reason=code)
        elif correct:
            # The documents contradict what the question takes for granted: say what they hold instead, in
            # their words (so in every mode the correction is a quote, verified by construction).
            text, chosen = extractive_answer(analysis, evidence)
            result = Answer(question, CORRECTION + text, False, "extractive", chosen, premise_corrected=True)
            if mode != "extractive":
                result.fallback_reason = PREMISE_CORRECTED
        elif mode == "extractive" or (mode == "auto" and self._llm is None):
            result = self._extractive(analysis, evidence, lead, conflicts)
            if mode == "auto":
                result.fallback_reason = NO_LLM
        else:
            result = self._generative(analysis, evidence, lead, conflicts, fallback=(mode == "auto"))
        timings["answer"] = _ms(t)
        timings["total"] = _ms(started)
        result.answer = keep_cited_markers(strip_invisible(result.answer), len(result.citations))
        if not result.refused and not result.premise_corrected:
            short = short_answer(analysis, result.citations)
            result.short_answer = short if short is not None and short.text in result.answer else None
        result.conflicts = _cited_only(result.conflicts, result.citations)
        result.answerability = decision.probability if decision is not None else None
        result.timings_ms = timings
        result.question = question
        result.rewritten_question = rewritten
        return result

    def assess(self, question: str, *, collection: str, top_k: int) -> Assessment:
        """Retrieval, ranking and the answerability decision, without an answer (training, diagnostics)."""
        analysis = analyze_question(question)
        chunks = self._retriever.retrieve(analysis.focus, collection=collection, top_k=top_k)
        return self._decide(analysis, self._ranker.rank(analysis, chunks, collection=collection), collection)

    def _decide(self, analysis: QuestionAnalysis, evidence: list[Evidence], collection: str) -> Assessment:
        if not evidence:
            return Assessment(analysis, evidence, None, None)
        shares = self._retriever.prevalence(set(analysis.names), collection=collection)
        topic = frozenset(n for n, share in shares.items() if share >= TOPIC_SHARE)
        terms = self._retriever.term_shares(set(analysis.key_terms), collection=collection)
        ctx = context(analysis, evidence, topic_names=topic, term_shares=terms)
        return Assessment(analysis, evidence, ctx, self._refuser.decide(ctx))

    def _lead(
        self, question: QuestionAnalysis, evidence: list[Evidence], collection: str, top_k: int
    ) -> list[Evidence]:
        """The sentences an extractive answer quotes; for a synthesis question several, one per sub-question."""
        base = select_extractive_evidence(question, evidence)
        if not is_synthesis_question(question):
            return base
        parts = []
        for part in question_parts(question):
            sub = analyze_question(part)
            chunks = self._retriever.retrieve(sub.focus, collection=collection, top_k=top_k)
            parts.append(self._ranker.rank(sub, chunks, collection=collection))
        return select_synthesis_evidence(question, evidence, base, parts)

    def _claim_pool(self, question: QuestionAnalysis, evidence: list[Evidence], collection: str) -> list[Evidence]:
        """The ranked evidence plus the stored claim sentences of the same documents that bear on the
        question (a denial rarely shares the question's words, so retrieval alone misses it)."""
        if self._claims is None or not evidence:
            return evidence
        wanted = self._claims.wanted(question, evidence, collection=collection)
        chunks = self._claims.chunks_for(wanted, evidence, collection=collection)
        if not chunks:
            return evidence
        keys = {(w.document.id, start) for w in wanted for start in w.starts}
        extra = [
            e for e in self._ranker.rank(question, chunks, collection=collection) if (e.document_id, e.start) in keys
        ]
        return evidence + extra

    def _extractive(
        self, question: QuestionAnalysis, evidence: list[Evidence], lead: list[Evidence], conflicts: list[Conflict]
    ) -> Answer:
        if not conflicts and not is_synthesis_question(question):
            text, chosen = extractive_answer(question, evidence)
        else:
            text, chosen = compose_answer(question, lead, conflicts)
        return Answer(question.text, text, False, "extractive", chosen, conflicts=conflicts)

    def _generative(
        self,
        question: QuestionAnalysis,
        evidence: list[Evidence],
        lead: list[Evidence],
        conflicts: list[Conflict],
        *,
        fallback: bool,
    ) -> Answer:
        if self._llm is None:
            raise no_llm_error()
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
            result = self._extractive(question, evidence, lead, conflicts)
            log.warning("the LLM is unavailable, answering extractively: %s", exc.message)
            result.fallback_reason = LLM_UNAVAILABLE
            return result
        assert self._judge is not None  # checked at construction: an LLM comes with the judge
        # auto quotes when verification fails, so a wrong "supported" costs more than a wrong "unsupported":
        # it verifies at the judge's strict point (generative, with nothing to fall back on, at the served one)
        verification = verify_answer(output, passages, question, self._judge, strict=fallback)
        if verification.passed:
            # Attribution and the sides of a conflict come from the stored claims, not from the model.
            parts = [
                Part(
                    attribute_sentence(s.text, [passages[n - 1] for n in s.citations]),
                    tuple(passages[n - 1] for n in s.citations),
                )
                for s in verification.sentences
            ]
            quoted = {(e.document_id, e.start) for p in parts for e in p.evidence}
            parts += conflicts_parts(conflicts, quoted)
            text, cited = render(parts)
            return Answer(question.text, text, False, "generative", cited, llm_output=output, conflicts=conflicts)
        log.info("the generated answer failed verification: %s", "; ".join(verification.problems)[:500])
        if fallback:
            result = self._extractive(question, evidence, lead, conflicts)
            result.fallback_reason = VERIFICATION_FAILED
            result.llm_output = output
            return result
        return Answer(
            question.text, NOT_VERIFIED, True, "generative", [], refusal_reason=VERIFICATION_FAILED, llm_output=output
        )


def _cited_only(conflicts: list[Conflict], citations: list[Evidence]) -> list[Conflict]:
    """Conflicts as the answer cites them: a refused answer has none, and a side keeps only cited evidence
    (composition cites every side; this keeps `/ask` consistent if it ever does not)."""
    cited = {(e.document_id, e.start) for e in citations}
    out = []
    for conflict in conflicts:
        sides = [
            replace(side, evidence=kept)
            for side in conflict.sides
            if (kept := tuple(e for e in side.evidence if (e.document_id, e.start) in cited))
        ]
        if len(sides) >= 2:
            out.append(replace(conflict, sides=tuple(sides)))
    return out


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000.0, 2)
