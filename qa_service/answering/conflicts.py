"""Disagreement between sources: who says what about the question, and where they contradict each other.

Three signals, all from the claims found at ingestion (never from the LLM): claims taking opposite sides
on the question's predicate ("pullout of Iranian units" vs "had not left southern Syria"); a dispute
aimed at a speaker ("Levrentyev wasn't speaking the truth", "contradicted Viktorov"); and claims giving
different numbers for the same thing. Conflicts that share a sentence are merged, so each disagreement
is reported once with every side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from qa_service.answering.claims import (
    claim_stance,
    question_predicate,
    same_person,
)
from qa_service.answering.policy import BARE_DISPUTE_WORDS, REBUTTAL_REACH, REBUTTAL_SENTENCES
from qa_service.answering.question import QuestionAnalysis
from qa_service.domain import Evidence
from qa_service.text import stem

Position = Literal["affirms", "claims", "denies", "disputes"]
_ORDER = {"affirms": 0, "claims": 1, "denies": 2, "disputes": 3}  # how sides are listed
_PRIORITY = {"affirms": 0, "denies": 0, "claims": 1, "disputes": 2}  # a speaker's stance on the question first
_QUANTITY = re.compile(r"(?<![\w.])(\d[\d,.]*)\s*(%|km|[a-z]{3,})", re.I)


@dataclass(frozen=True, slots=True)
class Side:
    """One party to a conflict. ``speaker`` None is the document itself (its author)."""

    speaker: str | None
    position: Position
    statement: str  # what this side says: the claim span, or the dispute
    evidence: tuple[Evidence, ...]  # the statement's sentence first, then sentences substantiating it


@dataclass(frozen=True, slots=True)
class Conflict:
    about: str
    sides: tuple[Side, ...]

    @property
    def evidence(self) -> list[Evidence]:
        return [e for side in self.sides for e in side.evidence]


def claim_text(evidence: Evidence) -> str:
    """The claimed words of a claim sentence (the whole sentence when it is no claim)."""
    claim = evidence.claim
    if claim is None:
        return evidence.text
    text = evidence.text[claim.claim_start - evidence.start : claim.claim_end - evidence.start]
    return text + "”" if text.count("“") > text.count("”") else text  # the span may stop inside a quotation


def find_conflicts(question: QuestionAnalysis, anchors: list[Evidence], pool: list[Evidence]) -> list[Conflict]:
    """Conflicts among ``pool`` (ranked evidence plus looked-up claim sentences) that bear on the question:
    a disputed or counted claim must be one the answer quotes (``anchors``) or take a stance on the
    question's predicate."""
    relevant = {_key(e) for e in anchors}
    predicate = question_predicate(question)
    stances: list[tuple[Evidence, Position]] = []
    if predicate is not None:
        for item in pool:
            stance = claim_stance(item, predicate, question)
            if stance is not None:
                stances.append((item, stance))
                relevant.add(_key(item))
    found: list[list[Side]] = []
    if {s for _, s in stances} == {"affirms", "denies"}:
        found.append([Side(e.claim.speaker if e.claim else None, s, claim_text(e), (e,)) for e, s in stances])
    found.extend(_disputes(pool, relevant, dict((_key(e), s) for e, s in stances)))
    found.extend(_number_conflicts([e for e in pool if _key(e) in relevant]))
    return [Conflict(question.focus, tuple(_sorted(sides))) for sides in _merged(found)]


def _disputes(
    pool: list[Evidence], relevant: set[tuple[str, int]], stances: dict[tuple[str, int], Position]
) -> list[list[Side]]:
    out = []
    for item in pool:
        claim = item.claim
        if claim is None or claim.kind != "dispute" or not claim.target:
            continue
        target = claim.target
        disputed = [
            e
            for e in pool
            if e.claim is not None and e is not item and _key(e) in relevant and same_person(target, e.claim.speaker)
        ]
        if not disputed:
            continue
        sides = [
            Side(e.claim.speaker if e.claim else None, stances.get(_key(e), "claims"), claim_text(e), (e,))
            for e in disputed
        ]
        support = (
            _rebuttal(item, pool) if claim.speaker is None and len(item.text.split()) <= BARE_DISPUTE_WORDS else []
        )
        sides.append(Side(claim.speaker, "disputes", claim_text(item), (item, *support)))
        out.append(sides)
    return out


def _rebuttal(dispute: Evidence, pool: list[Evidence]) -> list[Evidence]:
    """The sentences right after a bare dispute, which say why ("Safi al-Din said Hezbollah had not left")."""
    after = sorted(
        (e for e in pool if e.document_id == dispute.document_id and 0 <= e.start - dispute.end < REBUTTAL_REACH),
        key=lambda e: e.start,
    )
    return after[:REBUTTAL_SENTENCES]


def _number_conflicts(claims: list[Evidence]) -> list[list[Side]]:
    """Two speakers giving different numbers of the same thing ("85 km" vs "40 km")."""
    quantities = {
        _key(e): {(stem(unit.lower()), number.replace(",", "")) for number, unit in _QUANTITY.findall(claim_text(e))}
        for e in claims
        if e.claim is not None and e.claim.speaker
    }
    out = []
    items = [e for e in claims if _key(e) in quantities]
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            qa, qb = quantities[_key(a)], quantities[_key(b)]
            units = {u for u, _ in qa} & {u for u, _ in qb}
            differ = any({n for u2, n in qa if u2 == u} != {n for u2, n in qb if u2 == u} for u in units)
            if differ and a.claim and b.claim and a.claim.speaker != b.claim.speaker:
                out.append([Side(e.claim.speaker if e.claim else None, "claims", claim_text(e), (e,)) for e in (a, b)])
    return out


def _merged(groups: list[list[Side]]) -> list[list[Side]]:
    """Join conflicts that share a sentence; one side per speaker, keeping the most specific position."""
    merged: list[list[Side]] = []
    for sides in groups:
        keys = {_key(e) for s in sides for e in s.evidence}
        overlapping = [m for m in merged if keys & {_key(e) for s in m for e in s.evidence}]
        for m in overlapping:
            merged.remove(m)
            sides = m + sides
        merged.append(sides)
    out = []
    for sides in merged:
        by_speaker: dict[str, Side] = {}
        for side in sides:
            key = (side.speaker or "").lower()
            old = by_speaker.get(key)
            if old is None:
                by_speaker[key] = side
                continue
            evidence = tuple({_key(e): e for e in (*old.evidence, *side.evidence)}.values())
            best = min(old, side, key=lambda x: _PRIORITY[x.position])
            by_speaker[key] = Side(best.speaker, best.position, best.statement, evidence)
        if len(by_speaker) >= 2:
            out.append(list(by_speaker.values()))
    return out


def _sorted(sides: list[Side]) -> list[Side]:
    return sorted(sides, key=lambda s: (_ORDER[s.position], s.evidence[0].document_id, s.evidence[0].start))


def _key(evidence: Evidence) -> tuple[str, int]:
    return (evidence.document_id, evidence.start)
