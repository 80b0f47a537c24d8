"""Claims at answer time: which stored claims take a side on the question, and the sentences to fetch.

A claim takes a side when its claimed words hold the question's predicate ("withdrawn" asks about
pulling out; "pullout", "had not left" and "cannot compel ... to leave" answer it) — affirmed, or negated
by a nearby "not"/"cannot"/"never" or a denial. Retrieval finds passages like the question; the claims
that contradict it often use other words, so they are looked up in the stored claims of the documents
retrieval found, and the chunks holding them are ranked as extra evidence.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from qa_service.answering.evidence import DocumentCache
from qa_service.answering.policy import (
    BARE_DISPUTE_WORDS,
    DISPUTED_POOL,
    EXPAND_DOCUMENTS,
    NEGATION_REACH,
    REBUTTAL_SENTENCES,
)
from qa_service.answering.question import QuestionAnalysis
from qa_service.domain import Chunk, Claim, Document, Evidence, ScoredChunk
from qa_service.text import mentions, words

Stance = Literal["affirms", "denies"]
# Predicates a question may ask about, each with the words that say it happened. Small on purpose: a
# family here is a promise that its words mean the same thing in news text.
PREDICATES: dict[str, re.Pattern[str]] = {
    name: re.compile(r"\b(?:" + pattern + r")\b", re.I)
    for name, pattern in {
        "withdraw": r"withdr[ae]wn?|withdraw(?:s|ing|al)?|pull(?:ed|s|ing)?\s+(?:out|back)|pull-?outs?|pullback"
        r"|left|leav(?:e|es|ing)|retreat(?:s|ed|ing)?|evacuat(?:e|ed|es|ing|ion)|exit(?:ed|s)?",
        "participate": r"participat(?:e|ed|es|ing)|t(?:ake|ook|aking|akes) part|fought|fight(?:s|ing)?",
        "attack": r"attack(?:s|ed|ing)?|strik(?:e|es|ing)|struck|bomb(?:s|ed|ing)?|shell(?:s|ed|ing)?",
        "kill": r"kill(?:s|ed|ing)?|died|dead",
        "agree": r"agree(?:s|d|ing|ment)?|accept(?:s|ed|ing)?|approv(?:e|ed|es|ing)",
        "control": r"control(?:s|led|ling)?|(?:re)?captur(?:e|ed|es|ing)|retook|liberat(?:e|ed|es|ing)",
    }.items()
}
_NEGATION = frozenset("not no never cannot can't won't without refused failed neither nor".split())


def question_predicate(question: QuestionAnalysis) -> str | None:
    """The predicate family the question asks about ("Have ... withdrawn ...?" -> "withdraw"), if any."""
    for name, pattern in PREDICATES.items():
        if pattern.search(question.focus):
            return name
    return None


def claim_stance(evidence: Evidence, predicate: str, question: QuestionAnalysis) -> Stance | None:
    """Whether this reported claim says the predicate happened, did not, or neither (None)."""
    claim = evidence.claim
    if claim is None or (claim.kind == "dispute" and claim.claim_start == claim.start):
        return None
    text = evidence.text[claim.claim_start - evidence.start : claim.claim_end - evidence.start]
    if question.names and not any(mentions(n, set(words(evidence.text))) for n in question.names):
        return None
    match = PREDICATES[predicate].search(text)
    if match is None:
        return None
    before = [w.replace("’", "'") for w in text[: match.start()].lower().split()][-NEGATION_REACH:]
    negated = any(w in _NEGATION or w.endswith("n't") for w in before)
    if claim.kind == "denial":
        negated = not negated
    return "denies" if negated else "affirms"


def same_person(target: str, speaker: str | None) -> bool:
    """Does a dispute's target name this speaker? Tolerates misspellings ("Levrentyev"/"Lavrentyev")."""
    if not speaker:
        return False
    name = target.split()[-1].lower()
    tokens = [t.strip(",.’'").removesuffix("’s").lower() for t in speaker.split()]
    return any(t == name or (len(name) >= 5 and difflib.SequenceMatcher(None, t, name).ratio() >= 0.85) for t in tokens)


@dataclass(frozen=True, slots=True)
class Wanted:
    document: Document
    starts: frozenset[int]  # sentence starts to have as evidence


class ClaimLookup:
    """Finds, in the retrieved documents, the claim sentences an answer should weigh."""

    def __init__(self, *, documents: DocumentCache, chunk_at: Callable[[str, str, int], Chunk | None]) -> None:
        self._documents = documents
        self._chunk_at = chunk_at

    def wanted(self, question: QuestionAnalysis, evidence: list[Evidence], *, collection: str) -> list[Wanted]:
        """Per retrieved document: claims taking a side on the question's predicate, disputes of the
        speakers of those claims or of the best evidence, and the sentences substantiating a bare dispute."""
        predicate = question_predicate(question)
        doc_ids = list(dict.fromkeys(e.document_id for e in evidence))[:EXPAND_DOCUMENTS]
        speakers = {e.claim.speaker for e in evidence[:DISPUTED_POOL] if e.claim is not None and e.claim.speaker}
        out = []
        for doc_id in doc_ids:
            document, spans = self._documents.get(collection, doc_id)
            starts: set[int] = set()
            for claim in document.claims:
                probe = _as_evidence(document, claim)
                if predicate is not None and claim_stance(probe, predicate, question) is not None:
                    starts.add(claim.start)
                    if claim.speaker:
                        speakers.add(claim.speaker)
            for claim in document.claims:
                if claim.kind == "dispute" and claim.target and any(same_person(claim.target, s) for s in speakers):
                    starts.add(claim.start)
                    starts.update(c.start for c in document.claims if same_person(claim.target, c.speaker))
                    if is_bare_dispute(claim, document.text):
                        following = [int(a) for a in spans[:, 0] if a >= claim.end][:REBUTTAL_SENTENCES]
                        starts.update(following)
            if starts:
                out.append(Wanted(document, frozenset(starts)))
        return out

    def chunks_for(self, wanted: list[Wanted], evidence: list[Evidence], *, collection: str) -> list[ScoredChunk]:
        """Chunks holding wanted sentences that the ranked evidence lacks (each chunk once)."""
        have = {(e.document_id, e.start) for e in evidence}
        chunks: dict[str, Chunk] = {}
        for item in wanted:
            for start in sorted(item.starts):
                if (item.document.id, start) in have:
                    continue
                chunk = self._chunk_at(collection, item.document.id, start)
                if chunk is not None:
                    chunks.setdefault(chunk.id, chunk)
        return [ScoredChunk(c, 0.0) for c in chunks.values()]


def is_bare_dispute(claim: Claim, text: str) -> bool:
    """The document's own "X wasn't speaking the truth": too short to say why by itself."""
    return (
        claim.kind == "dispute"
        and claim.speaker is None
        and len(text[claim.start : claim.end].split()) <= BARE_DISPUTE_WORDS
    )


def _as_evidence(document: Document, claim: Claim) -> Evidence:
    return Evidence(
        document.id,
        document.source,
        "",
        claim.start,
        claim.end,
        document.text[claim.start : claim.end],
        0.0,
        claim=claim,
        title=document.title,
    )
